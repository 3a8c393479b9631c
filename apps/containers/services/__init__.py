"""Every change of state of Docker resources goes through these modules."""
