"""Credentials for image registries, used by pulls and builds."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RegistryCredential(models.Model):
    """A login to one registry host, owned by the user who stored it.

    The secret (password or access token) is sealed with a key derived from
    the portal's SECRET_KEY (``dockpilot.encryption``) and is never sent back
    by the API; the engine receives it only inside a pull or build request.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="registry_credentials",
    )
    name = models.SlugField(max_length=64)
    registry = models.CharField(
        max_length=255, help_text="Host and optional port, e.g. 127.0.0.1:5000."
    )
    username = models.CharField(max_length=255)
    secret_sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner__username", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="one_credential_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.registry})"
