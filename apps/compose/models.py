"""Compose projects: the files a team deploys with ``docker compose``."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProjectStatus(models.TextChoices):
    NEW = "new"  # saved, never deployed
    RUNNING = "running"  # every service that should run does
    PARTIAL = "partial"  # some services run, others were stopped
    FAILED = "failed"  # a service exited with an error, restarts or is unhealthy
    FINISHED = "finished"  # only one-shot services, all exited 0
    STOPPED = "stopped"  # containers exist, none runs
    DOWN = "down"  # no containers


class ComposeProject(models.Model):
    """A Compose project: its compose file, its ``.env``, and who owns it.

    The text is kept here and written to ``DATA_DIR/projects/<name>/``
    (``compose.yaml`` and ``.env``), where the ``docker compose`` CLI reads
    it. Names are unique across environments because that folder is named
    after the project. ``project_directory`` is what Compose resolves
    relative paths against and records on the containers it starts; it is
    the project's folder, or for an adopted stack the folder it was started
    from. The containers that carry this project's name and directory in
    their Compose labels belong to the project (see accounts/access.py).
    """

    name = models.CharField(max_length=63, unique=True)
    environment = models.ForeignKey(
        "containers.Environment",
        on_delete=models.PROTECT,
        related_name="compose_projects",
    )
    compose_yaml = models.TextField()
    env_text = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compose_projects",
    )
    status = models.CharField(
        max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.NEW
    )
    # Which services run, finished (exited 0), failed or were stopped, as
    # last seen; refreshed by every operation and by ``ps``.
    services_state = models.JSONField(default=dict, blank=True)
    # Services stopped through the portal: their exit code is no failure.
    stopped_services = models.JSONField(default=list, blank=True)
    project_directory = models.CharField(max_length=1024, blank=True)
    adopted = models.BooleanField(default=False)
    last_job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Raised by every operation queued: two requests that both saw the
    # project idle cannot both claim it (one conditional update wins).
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("operate_composeproject", "Can deploy, stop, start and restart it")
        ]

    def __str__(self) -> str:
        return self.name
