"""Background jobs (pulls, builds, prunes, Compose) and their numbered output."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    PULL = "pull"
    BUILD = "build"
    PRUNE = "prune"
    COMPOSE_UP = "compose_up"
    COMPOSE_DOWN = "compose_down"
    COMPOSE_STOP = "compose_stop"
    COMPOSE_START = "compose_start"
    COMPOSE_RESTART = "compose_restart"
    COMPOSE_PULL = "compose_pull"
    TUNNEL_START = "tunnel_start"
    TUNNEL_STOP = "tunnel_stop"


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the engine or registry refused; its reason is in error
    ERRORED = "errored"  # our code broke or the worker died
    CANCELED = "canceled"


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.ERRORED, Status.CANCELED)


class Job(models.Model):
    """One piece of long work, run by a Celery worker.

    The row is written before the task is sent and its id is the Celery task
    id, so a job can be watched from the moment the request returns. A
    worker claims it by moving it from queued to running in one conditional
    update; while it runs it refreshes ``heartbeat_at``, and a job whose
    heartbeat stops is marked errored by the beat task.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    target = models.CharField(max_length=512, blank=True)
    environment = models.ForeignKey(
        "containers.Environment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # 0 to 100; empty while the work cannot say how far it is.
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    request_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    output_chunks = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobOutput(models.Model):
    """One numbered piece of a job's output, from 1 up, never rewritten.

    ``text`` holds the lines a person reads; ``events`` the same progress as
    data (per-layer state of a pull, a build's steps). A client that lost
    its connection asks for the chunks after the last number it saw.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="output")
    seq = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="one_chunk_per_seq")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"
