"""Input serializers of the Docker endpoints, one module per resource."""
