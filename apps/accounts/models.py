"""Users of the portal, their roles, teams and personal API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


class PortalUserManager(UserManager["User"]):
    def create_superuser(  # type: ignore[override]
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> User:
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A person or script that logs in; ``role`` sets the baseline of access."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by an admin's password reset: until the user picks a new password,
    # their logins reach only the password endpoint.
    must_change_password = models.BooleanField(default=False)

    objects = PortalUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["username"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The role is the one source of truth: Django's superuser and staff
        # flags follow it, so a demoted admin cannot keep access through them.
        self.is_superuser = self.is_staff = self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_superuser", "is_staff"}
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def can_change(self) -> bool:
        return self.is_active and (self.is_admin or self.role == Role.OPERATOR)


class Team(Group):
    """A group of users that object permissions can be granted to.

    It extends Django's ``Group`` so that django-guardian's group grants
    apply to it unchanged; a user may belong to several teams.
    """

    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Group's manager, typed for teams (annotation only: nothing changes).
    objects: ClassVar[models.Manager[Team]]  # type: ignore[assignment]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scope(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE = "read,write", "Read and write"


class ApiToken(models.Model):
    """A personal token for scripts: only its hash is stored.

    ``prefix`` is the public part the owner sees in lists and that finds the
    row; the secret after it is checked against ``secret_hash``.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.CharField(max_length=16, choices=Scope.choices)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return "write" in self.scopes.split(",")


class EndedSession(models.Model):
    """A login session ended by logout: its access tokens stop at once.

    Every JWT of one login carries the same ``sid`` claim, kept through
    refresh rotation; rows older than the refresh lifetime can be purged.
    """

    sid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    ended_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sid
