"""Tunnel configurations: what a tunnel exposes, through which provider."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Provider(models.TextChoices):
    SSH = "ssh"
    CLOUDFLARE_QUICK = "cloudflare_quick"
    CLOUDFLARE_NAMED = "cloudflare_named"


class Runner(models.TextChoices):
    # A process started and watched by a worker on the worker's machine.
    PROCESS = "process"
    # cloudflared in a container of its own on the target's network.
    SIDECAR = "sidecar"


class TunnelStatus(models.TextChoices):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"


class TunnelConfig(models.Model):
    """One tunnel from a public address to a port of one container.

    ``options`` holds the provider's settings that are no secret (the SSH
    server, user and host key; the Cloudflare account and zone). The
    secrets (an API token, an SSH private key) are sealed together in
    ``secrets_sealed`` (``dockpilot.encryption``) and never leave the
    portal except to the provider process. ``created_at_provider`` lists
    what the portal created at the provider (a tunnel id, DNS record ids):
    teardown removes exactly those and nothing else.

    While it runs, ``pid``, ``process_started`` (the kernel's start time of
    that pid, so a reused pid is never mistaken for ours) and
    ``supervisor_host`` say where the process lives; a sidecar is named by
    ``sidecar_id``.
    """

    name = models.SlugField(max_length=64)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="tunnels",
    )
    environment = models.ForeignKey(
        "containers.Environment", on_delete=models.CASCADE, related_name="tunnels"
    )
    provider = models.CharField(max_length=32, choices=Provider.choices)
    runner = models.CharField(
        max_length=16, choices=Runner.choices, default=Runner.PROCESS
    )
    container_id = models.CharField(max_length=128, db_index=True)
    container_name = models.CharField(max_length=255, blank=True)
    target_port = models.PositiveIntegerField()
    hostname = models.CharField(max_length=253, blank=True)
    options = models.JSONField(default=dict, blank=True)
    secrets_sealed = models.TextField(blank=True)
    from_labels = models.BooleanField(default=False)

    status = models.CharField(
        max_length=16, choices=TunnelStatus.choices, default=TunnelStatus.STOPPED
    )
    status_reason = models.TextField(blank=True)
    public_url = models.CharField(max_length=512, blank=True)
    desired_running = models.BooleanField(default=False)
    created_at_provider = models.JSONField(default=dict, blank=True)

    pid = models.PositiveIntegerField(null=True, blank=True)
    process_started = models.BigIntegerField(null=True, blank=True)
    supervisor_host = models.CharField(max_length=255, blank=True)
    sidecar_id = models.CharField(max_length=128, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    restarts = models.PositiveIntegerField(default=0)
    next_restart_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["environment", "name"]
        permissions = [("operate_tunnelconfig", "Can start and stop the tunnel")]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "name"], name="one_tunnel_name_per_environment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider}, {self.status})"
