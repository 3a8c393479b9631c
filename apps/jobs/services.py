"""Queuing jobs, running them in a worker, and ending them in a clear state.

A change of a job's status is always one conditional UPDATE (``WHERE
status = ...``): a worker claims a queued job only if no other worker did,
and a job that the reaper already marked errored cannot be marked
succeeded by a worker that woke up late.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.audit.models import Action, Outcome
from apps.audit.services import audited, record
from apps.containers.models import Environment
from dockpilot.errors import Conflict, PortalError
from dockpilot.middleware import bound_request_id, current_request_id

from .models import Job, JobOutput, Status

logger = logging.getLogger("dockpilot.jobs.services")

# What runs each kind of job in the worker: a callable taking a JobRun and
# returning the job's result.
RUNNERS = {
    "pull": "apps.containers.services.pulls.run_pull",
    "build": "apps.containers.services.builds.run_build",
    "prune": "apps.containers.services.prunes.run_prune",
    **{
        f"compose_{operation}": "apps.compose.services.operations.run_operation"
        for operation in ("up", "down", "stop", "start", "restart", "pull")
    },
    "tunnel_start": "apps.tunnels.services.run_start",
    "tunnel_stop": "apps.tunnels.services.run_stop",
}


# What the audit row of a finished job names as its resource; a prune names
# what it pruned (containers, images, ...).
_AUDIT_RESOURCE = {
    "pull": "image",
    "build": "image",
    **{
        f"compose_{operation}": "compose_project"
        for operation in ("up", "down", "stop", "start", "restart", "pull")
    },
    "tunnel_start": "tunnel",
    "tunnel_stop": "tunnel",
}


class JobFailed(Exception):
    """The engine or registry refused the work; the message says why."""


class JobCanceled(Exception):
    """The work stopped because someone canceled the job."""


def environment_of(job: Job) -> Environment:
    """The environment a job acts on; gone since it was queued fails the job."""
    if job.environment is None:
        raise JobFailed("The job's environment was deleted after the job was queued.")
    return job.environment


def group_name(job_id: Any) -> str:
    return f"job.{job_id}"


def wake(job_id: Any) -> None:
    """Tell WebSocket listeners that a job has news; they read it from the DB."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(job_id), {"type": "job.wake"})
    except Exception:  # a lost wake-up only delays a listener until it polls
        logger.warning("could not wake listeners of job %s", job_id, exc_info=True)


def _send(job: Job) -> None:
    from dockpilot.celery import app

    try:
        app.send_task(
            "apps.jobs.tasks.run_job", args=[str(job.pk)], task_id=str(job.pk)
        )
    except Exception as exc:
        logger.exception("could not queue job %s", job.pk)
        _finish(job, Status.ERRORED, error=f"The job could not be queued: {exc}")


def require_engine(environment: Environment) -> None:
    """Refuse to queue work for an engine that does not answer (503 now)."""
    from apps.containers.engine import engine_for

    engine_for(environment).call("ping")


def submit(
    kind: str,
    *,
    request: HttpRequest,
    user: Any,
    environment: Any,
    target: str,
    params: dict[str, Any],
    audit_action: str,
) -> Job:
    """Write the job row, audit it, and send its task once the row is committed.

    The engine is asked first: a job queued for an engine that is down would
    only fail later, while the client can be told now.
    """
    require_engine(environment)
    with audited(
        Action.JOB_CREATE,
        request=request,
        resource_type="job",
        resource_name=target,
        details={"kind": kind, "environment": getattr(environment, "name", "")},
    ) as audit:
        job = Job.objects.create(
            id=uuid.uuid4(),
            kind=kind,
            target=target,
            environment=environment,
            user=user,
            params={**params, "audit_action": audit_action},
            request_id=current_request_id(),
        )
        audit.resource_id = str(job.pk)
    transaction.on_commit(lambda: _send(job))
    logger.info("job %s queued: %s %s", job.pk, kind, target)
    return job


def cancel(job: Job, *, request: HttpRequest) -> Job:
    """Cancel a job: at once when queued, through its worker when running."""
    with audited(
        Action.JOB_CANCEL,
        request=request,
        resource_type="job",
        resource_id=str(job.pk),
        resource_name=job.target,
        details={"kind": job.kind, "status": job.status},
    ):
        now = timezone.now()
        if Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.CANCELED, cancel_requested=True, finished_at=now
        ):
            _audit_end(Job.objects.get(pk=job.pk))
        elif not Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            cancel_requested=True
        ):
            job.refresh_from_db()
            raise Conflict(
                f"job {job.pk} already ended ({job.status}): nothing to cancel.",
                code="job_finished",
            )
    wake(job.pk)
    job.refresh_from_db()
    return job


def claim(job_id: str, worker: str) -> Job | None:
    """Move a queued job to running for ``worker``; None if it is not queued."""
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, worker=worker, started_at=now, heartbeat_at=now
    )
    return (
        Job.objects.select_related("user", "environment").get(pk=job_id)
        if taken
        else None
    )


def _finish(
    job: Job,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str = "",
    only_from: tuple[str, ...] = (Status.QUEUED, Status.RUNNING),
) -> bool:
    # One transaction: whoever sees the job ended also sees its audit row.
    with transaction.atomic():
        ended = Job.objects.filter(pk=job.pk, status__in=only_from).update(
            status=status,
            result=result or {},
            error=error[:10000],
            finished_at=timezone.now(),
            progress=100 if status == Status.SUCCEEDED else job.progress,
        )
        if ended:
            job.refresh_from_db()
            _audit_end(job)
    if ended:
        wake(job.pk)
    return bool(ended)


def _audit_end(job: Job) -> None:
    action = job.params.get("audit_action")
    if not action:
        return
    record(
        action,
        actor=job.user,
        resource_type=_AUDIT_RESOURCE.get(job.kind, job.target),
        resource_id=str(job.result.get("id", "")) if job.result else "",
        resource_name=job.target,
        outcome=Outcome.SUCCESS if job.status == Status.SUCCEEDED else Outcome.FAILURE,
        reason=job.error or ("" if job.status == Status.SUCCEEDED else job.status),
        details={
            "job": str(job.pk),
            "status": job.status,
            "environment": job.environment.name if job.environment else "",
            "result": job.result,
        },
    )


class JobRun:
    """A running job as its runner sees it: output, progress, cancel.

    Output is buffered and written as numbered chunks at most a few times a
    second, so a pull's thousands of progress messages cost a few rows. A
    watcher thread keeps the heartbeat fresh and notices a cancel request
    even while the runner is blocked reading the engine.
    """

    FLUSH_SECONDS = 0.3

    def __init__(self, job: Job) -> None:
        self.job = job
        self.canceled = False
        self._lines: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._progress: int | None = None
        self._last_flush = 0.0
        self._seq = job.output_chunks
        self._on_cancel: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name=f"job-{job.pk}", daemon=True
        )

    # Runner side.

    def emit(self, text: str = "", event: dict[str, Any] | None = None) -> None:
        if text:
            self._lines.append(text.rstrip("\n"))
        if event is not None:
            self._events.append(event)
        if time.monotonic() - self._last_flush >= self.FLUSH_SECONDS:
            self.flush()

    def set_progress(self, percent: int | None) -> None:
        self._progress = None if percent is None else max(0, min(100, percent))

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (from another thread) when the job is canceled."""
        with self._lock:
            self._on_cancel.append(callback)
            fire = self.canceled
        if fire:
            callback()

    def raise_if_canceled(self) -> None:
        if self.canceled:
            raise JobCanceled()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        changes: dict[str, Any] = {}
        if self._progress != self.job.progress:
            changes["progress"] = self.job.progress = self._progress
        if self._lines or self._events:
            self._seq += 1
            JobOutput.objects.create(
                job=self.job,
                seq=self._seq,
                text="\n".join(self._lines),
                events=self._events,
            )
            self._lines, self._events = [], []
            changes["output_chunks"] = self._seq
        if changes:
            Job.objects.filter(pk=self.job.pk).update(**changes)
            wake(self.job.pk)

    # Watcher side.

    def start(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        self._watcher.join(timeout=10)

    def _watch(self) -> None:
        with bound_request_id(self.job.request_id):
            self._beat_and_listen()

    def _beat_and_listen(self) -> None:
        beat = timedelta(seconds=settings.JOB_HEARTBEAT_SECONDS)
        last_beat = timezone.now()
        try:
            while not self._stop.wait(0.25):
                row = Job.objects.filter(pk=self.job.pk).values("cancel_requested")
                if row and row[0]["cancel_requested"] and not self.canceled:
                    self._fire_cancel()
                if timezone.now() - last_beat >= beat:
                    last_beat = timezone.now()
                    Job.objects.filter(pk=self.job.pk, status=Status.RUNNING).update(
                        heartbeat_at=last_beat
                    )
        except Exception:
            logger.exception("watcher of job %s stopped", self.job.pk)
        finally:
            connection.close()

    def _fire_cancel(self) -> None:
        with self._lock:
            self.canceled = True
            callbacks = list(self._on_cancel)
        logger.info("job %s canceled: stopping its engine call", self.job.pk)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logger.warning(
                    "cancel hook of job %s failed", self.job.pk, exc_info=True
                )


def execute(job_id: str, worker: str) -> str | None:
    """Claim and run one job in this worker; returns the status it ended in."""
    close_old_connections()
    job = claim(job_id, worker)
    if job is None:
        logger.info("job %s not queued any more: skipped", job_id)
        return None
    with bound_request_id(job.request_id):
        return _run(job)


def _run(job: Job) -> str:
    run = JobRun(job)
    run.start()
    status, result, error = Status.ERRORED, None, ""
    try:
        runner = import_string(RUNNERS[job.kind])
        result = runner(run)
        status = Status.SUCCEEDED
    except JobCanceled:
        status, error = Status.CANCELED, "Canceled by a user."
    except (JobFailed, PortalError) as exc:
        status = Status.CANCELED if run.canceled else Status.FAILED
        error = "Canceled by a user." if run.canceled else _message(exc)
    except Exception as exc:
        if run.canceled:
            status, error = Status.CANCELED, "Canceled by a user."
        else:
            logger.exception("job %s crashed", job.pk)
            error = f"Internal error ({exc.__class__.__name__}): {exc}"
    finally:
        run.stop()
        try:
            run.flush()
        except Exception:
            logger.exception("could not write the last output of job %s", job.pk)
    _finish(job, status, result=result, error=error, only_from=(Status.RUNNING,))
    log = logger.info if status == Status.SUCCEEDED else logger.warning
    log("job %s %s: %s %s %s", job.pk, status, job.kind, job.target, error)
    return status


def _message(exc: Exception) -> str:
    return str(getattr(exc, "detail", "") or exc) or exc.__class__.__name__


def reap_lost_jobs() -> int:
    """Mark errored every running job whose worker stopped sending heartbeats."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_LOST_AFTER_SECONDS)
    lost = list(Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff))
    ended = 0
    for job in lost:
        since = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
        error = (
            f"The worker {job.worker or '?'} stopped answering (last heartbeat "
            f"{since}); the job was cut off. Run it again."
        )
        with bound_request_id(job.request_id):
            ended += _finish(
                job, Status.ERRORED, error=error, only_from=(Status.RUNNING,)
            )
    if ended:
        logger.warning("marked %d jobs errored: their worker died", ended)
    return ended


def output_after(job: Job, after: int, limit: int = 500) -> list[JobOutput]:
    """Chunks numbered above ``after``, oldest first."""
    return list(job.output.filter(seq__gt=after).order_by("seq")[:limit])
