"""Docker hosts the portal manages, and who owns what on them."""

from __future__ import annotations

from django.conf import settings
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
    # Exceptions an admin allows non-admins on this engine from the container
    # security policy, such as "cap_add:NET_ADMIN" (see policy.py).
    policy_allow = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("operate_environment", "Can create resources and tag images in it")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_environment",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ResourceKind(models.TextChoices):
    CONTAINER = "container"
    VOLUME = "volume"
    NETWORK = "network"


class ResourceOwnership(models.Model):
    """A Docker resource the portal knows: who owns it, and what grants hang on it.

    Written when a user creates a container, volume or network through the
    portal, and removed when it is removed through the portal. An admin may
    also register a resource made outside the portal, to assign it or grant
    access to it; a row without an owner is reached only through grants.
    ``engine_id`` is the full id (containers, networks) or the name (volumes,
    which have no other id).
    """

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="ownerships"
    )
    kind = models.CharField(max_length=16, choices=ResourceKind.choices)
    engine_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_resources",
    )
    owner_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_resources",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["environment", "kind", "name"]
        permissions = [("operate_resourceownership", "Can start, stop, restart, exec")]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "kind", "engine_id"], name="one_row_per_resource"
            ),
            models.CheckConstraint(
                condition=models.Q(owner_user__isnull=True)
                | models.Q(owner_team__isnull=True),
                name="one_owner_at_most",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.engine_id[:12]} on {self.environment}"
