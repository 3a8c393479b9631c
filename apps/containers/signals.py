"""What the containers domain announces to other apps (tunnels follow them).

Sent after the engine did the work, with the environment, the container's
engine id and the request that asked for it.
"""

from __future__ import annotations

from django.dispatch import Signal

container_started = Signal()
container_removed = Signal()
