"""The append-only audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    AUTH_SETUP = "auth.setup"
    AUTH_LOGIN = "auth.login"
    AUTH_LOGOUT = "auth.logout"
    AUTH_REFRESH = "auth.refresh"
    AUTH_PASSWORD_CHANGE = "auth.password_change"  # noqa: S105 - an action name
    CONTAINER_CREATE = "container.create"
    CONTAINER_START = "container.start"
    CONTAINER_STOP = "container.stop"
    CONTAINER_RESTART = "container.restart"
    CONTAINER_PAUSE = "container.pause"
    CONTAINER_UNPAUSE = "container.unpause"
    CONTAINER_KILL = "container.kill"
    CONTAINER_RENAME = "container.rename"
    CONTAINER_DELETE = "container.delete"
    CONTAINER_EXEC_OPEN = "container.exec_open"
    CONTAINER_EXEC_CLOSE = "container.exec_close"
    IMAGE_TAG = "image.tag"
    IMAGE_DELETE = "image.delete"
    IMAGE_PRUNE = "image.prune"
    VOLUME_CREATE = "volume.create"
    VOLUME_DELETE = "volume.delete"
    VOLUME_PRUNE = "volume.prune"
    NETWORK_CREATE = "network.create"
    NETWORK_DELETE = "network.delete"
    NETWORK_CONNECT = "network.connect"
    NETWORK_DISCONNECT = "network.disconnect"
    NETWORK_PRUNE = "network.prune"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DELETE = "user.delete"
    ENVIRONMENT_CREATE = "environment.create"
    ENVIRONMENT_UPDATE = "environment.update"
    ENVIRONMENT_DELETE = "environment.delete"
    IMAGE_PULL = "image.pull"
    IMAGE_BUILD = "image.build"
    CONTAINER_PRUNE = "container.prune"
    BUILD_CACHE_PRUNE = "build_cache.prune"
    JOB_CREATE = "job.create"
    JOB_CANCEL = "job.cancel"
    REGISTRY_CREATE = "registry.create"
    REGISTRY_UPDATE = "registry.update"
    REGISTRY_DELETE = "registry.delete"
    TOKEN_CREATE = "token.create"  # noqa: S105 - an action name
    TOKEN_REVOKE = "token.revoke"  # noqa: S105 - an action name
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name
    TEAM_CREATE = "team.create"
    TEAM_UPDATE = "team.update"
    TEAM_DELETE = "team.delete"
    GRANT_CREATE = "grant.create"
    GRANT_DELETE = "grant.delete"
    OWNERSHIP_ASSIGN = "ownership.assign"
    OWNERSHIP_DELETE = "ownership.delete"
    COMPOSE_CREATE = "compose.create"
    COMPOSE_UPDATE = "compose.update"
    COMPOSE_DELETE = "compose.delete"
    COMPOSE_VALIDATE = "compose.validate"
    COMPOSE_UP = "compose.up"
    COMPOSE_DOWN = "compose.down"
    COMPOSE_STOP = "compose.stop"
    COMPOSE_START = "compose.start"
    COMPOSE_RESTART = "compose.restart"
    COMPOSE_PULL = "compose.pull"
    COMPOSE_ADOPT = "compose.adopt"
    TUNNEL_CREATE = "tunnel.create"
    TUNNEL_UPDATE = "tunnel.update"
    TUNNEL_DELETE = "tunnel.delete"
    TUNNEL_START = "tunnel.start"
    TUNNEL_STOP = "tunnel.stop"
    TUNNEL_RESTART = "tunnel.restart"
    TUNNEL_FAIL = "tunnel.fail"


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"


class AppendOnlyQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit rows cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit rows cannot be deleted")


class AuditLog(models.Model):
    """One change of state (or refused attempt), kept forever as written.

    The actor's username is copied so that the row still says who acted
    after the user is deleted and the foreign key is nulled.
    """

    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    # Validated against Action when written (services.record), not stored as
    # field choices: adding an action then needs no migration.
    action = models.CharField(max_length=64, db_index=True)
    resource_type = models.CharField(max_length=32, blank=True, db_index=True)
    resource_id = models.CharField(max_length=128, blank=True, db_index=True)
    resource_name = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit rows cannot be deleted")
