"""Docker hosts the portal manages."""

from __future__ import annotations

from django.db import models


class Environment(models.Model):
    """A Docker engine reached at ``endpoint`` (unix://, tcp:// or ssh://).

    An empty ``endpoint`` means "this machine's engine": whatever
    DOCKPILOT_DOCKER_HOST or DOCKER_HOST says, else the local socket.
    TLS client material is not stored yet: a tcp:// engine with TLS is
    reached only through the DOCKER_CERT_PATH of the portal's own process.
    """

    class Status(models.TextChoices):
        UNKNOWN = "unknown"
        UP = "up"
        DOWN = "down"

    name = models.SlugField(max_length=64, unique=True)
    endpoint = models.CharField(max_length=512, blank=True)
    is_default = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.UNKNOWN
    )
    last_seen = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_environment",
            )
        ]

    def __str__(self) -> str:
        return self.name
