"""Compose operations as jobs: up, down, stop, start, restart, pull.

Each one is queued as a job whose output is the CLI's own, line by line.
A project runs one operation at a time: a second one asked while the first
is queued or running is refused with 409, and the worker holds the
project's lock file while the CLI runs. The files on disk are written
again from the database before each run: the database is what was checked.

The security policy was applied when the files were saved, under the role
of whoever saved them: an operator may deploy a file an admin wrote (with
settings only admins may use), but cannot change it without the check.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action, Outcome
from apps.audit.services import record
from apps.jobs.models import Job
from apps.jobs.services import JobFailed, JobRun, environment_of, submit
from dockpilot.errors import BadRequest, Conflict

from .. import cli, envfile, files
from ..models import ComposeProject
from ..names import check_names
from ..validation import parse
from .projects import RESOURCE
from .status import refresh_status

logger = logging.getLogger("dockpilot.compose.services.operations")

OPERATIONS = ("up", "down", "stop", "start", "restart", "pull")
ACTIONS = {
    "up": Action.COMPOSE_UP,
    "down": Action.COMPOSE_DOWN,
    "stop": Action.COMPOSE_STOP,
    "start": Action.COMPOSE_START,
    "restart": Action.COMPOSE_RESTART,
    "pull": Action.COMPOSE_PULL,
}
PULL_POLICIES = ("always", "missing", "never", "build")
# Long enough for a pull of large images; a hung CLI is cut off after it.
TIMEOUT_SECONDS = 1800
STOP_TIMEOUT_MAX = 600


def _services_of(project: ComposeProject) -> set[str]:
    services = parse(project.compose_yaml).data.get("services") or {}
    return set(services)


def _checked_services(project: ComposeProject, services: list[str]) -> list[str]:
    check_names("services", services)
    unknown = sorted(set(services) - _services_of(project))
    if unknown:
        raise BadRequest(
            f"services: {', '.join(unknown)} not in the compose file of "
            f"'{project.name}'.",
            details={"field": "services"},
        )
    return services


def arguments(operation: str, options: dict[str, Any]) -> list[str]:
    """The subcommand and its options; service names after ``--``."""
    argv = [operation]
    if operation == "up":
        argv.append("--detach")
        # Only when asked: a --pull flag overrides every service's
        # pull_policy, and "never" in the file must stay never.
        if options.get("pull"):
            argv += ["--pull", options["pull"]]
        argv += ["--build"] if options.get("build") else ["--no-build"]
        if options.get("remove_orphans"):
            argv.append("--remove-orphans")
        if options.get("force_recreate"):
            argv.append("--force-recreate")
    elif operation == "down":
        if options.get("remove_volumes"):
            argv.append("--volumes")
        if options.get("remove_images"):
            argv += ["--rmi", options["remove_images"]]
        if options.get("remove_orphans"):
            argv.append("--remove-orphans")
    elif operation in ("stop", "restart") and options.get("timeout") is not None:
        argv += ["--timeout", str(int(options["timeout"]))]
    if operation != "down":
        argv += ["--", *options.get("services", [])]
    return argv


def _claim(project: ComposeProject, job: Job, revision: int) -> None:
    taken = ComposeProject.objects.filter(pk=project.pk, revision=revision).update(
        revision=F("revision") + 1, last_job=job
    )
    if not taken:
        raise Conflict(
            f"compose project '{project.name}' is busy: another operation was "
            "just queued; wait for it to end.",
            code="project_busy",
        )


def _refuse_if_busy(project: ComposeProject) -> None:
    job = project.last_job
    if job is not None and not job.finished:
        raise Conflict(
            f"compose project '{project.name}' is busy with job {job.pk} "
            f"({job.kind.removeprefix('compose_')}, {job.status}); wait for it "
            "to end, or cancel it.",
            code="project_busy",
            details={"job": str(job.pk)},
        )


@contextlib.contextmanager
def audited_refusal(
    action: str, project: ComposeProject, request: HttpRequest, options: dict[str, Any]
) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        record(
            action,
            request=request,
            resource_type=RESOURCE,
            resource_id=project.name,
            resource_name=project.name,
            outcome=Outcome.FAILURE,
            reason=str(getattr(exc, "detail", "") or exc),
            details={"environment": project.environment.name, **options},
        )
        raise


def submit_operation(
    project: ComposeProject,
    operation: str,
    options: dict[str, Any],
    *,
    user: Any,
    request: HttpRequest,
) -> Job:
    """Check an operation and queue it as a job; 409 if one is under way."""
    action = ACTIONS[operation]
    # The request's success is audited as the job's creation; its end is
    # audited under ``action`` by the job. A refusal is audited here.
    with audited_refusal(action, project, request, options):
        if options.get("services"):
            _checked_services(project, options["services"])
        check_names("profiles", options.get("profiles", []))
        if options.get("remove_images") == "all":
            # Removing every image the project uses reaches images others use.
            access.require_environment(user, project.environment, "change")
        with transaction.atomic():
            project.refresh_from_db()
            _refuse_if_busy(project)
            revision = project.revision
            job = submit(
                f"compose_{operation}",
                request=request,
                user=user,
                environment=project.environment,
                target=project.name,
                params={"project": project.pk, "operation": operation, **options},
                audit_action=action,
            )
            _claim(project, job, revision)
    logger.info("compose %s of %s queued as job %s", operation, project.name, job.pk)
    return job


def _track_stopped(
    project: ComposeProject, operation: str, services: list[str]
) -> None:
    """Remember which services the portal stopped, so their exit is no failure."""
    stopped = set(project.stopped_services)
    chosen = set(services) or _services_of(project)
    if operation == "stop":
        stopped |= chosen
    elif operation in ("up", "start", "restart"):
        stopped -= chosen
    elif operation == "down":
        stopped = set()
    project.stopped_services = sorted(stopped)
    ComposeProject.objects.filter(pk=project.pk).update(
        stopped_services=project.stopped_services
    )


def _show(run: JobRun, line: str, hidden: list[str]) -> None:
    # Each line at once: the CLI may print "Stopping" and then wait a
    # minute, and the buffer of JobRun is flushed only by the next line.
    # Compose prints a few lines per container, so a chunk each stays cheap.
    # Viewers of the project read the job: an error quoting an interpolated
    # .env value shows *** instead.
    run.emit(envfile.hide_values(line, hidden))
    run.flush()


def run_operation(run: JobRun) -> dict[str, Any]:
    """Run the CLI in the worker, each line it prints becoming job output."""
    job = run.job
    environment = environment_of(job)
    project = ComposeProject.objects.filter(pk=job.params.get("project")).first()
    if project is None:
        raise JobFailed("The compose project was deleted after the job was queued.")
    operation = job.params["operation"]
    options = {k: v for k, v in job.params.items() if k not in ("project", "operation")}

    with files.operation_lock(project.name):
        files.write_files(project.name, project.compose_yaml, project.env_text)
        folder = files.folder_of(project.name)
        argv = cli.command(
            cli.Files(project.name, project.project_directory, folder),
            arguments(operation, options),
            profiles=options.get("profiles", []),
        )
        run.emit(f"$ docker compose {' '.join(arguments(operation, options))}")
        hidden = envfile.hidden_values(project.env_text)
        returncode, last = cli.stream(
            environment,
            argv,
            lambda line: _show(run, line, hidden),
            timeout=TIMEOUT_SECONDS,
            on_start=run.on_cancel,
        )
        run.raise_if_canceled()
        _track_stopped(project, operation, options.get("services", []))
        seen = refresh_status(project)
    if returncode != 0:
        reason = next((line for line in reversed(last) if line.strip()), "")
        reason = envfile.hide_values(reason, hidden)
        raise JobFailed(
            f"docker compose {operation} of '{project.name}' failed (exit "
            f"{returncode}): {reason}"
        )
    run.emit(f"project {project.name}: {seen['status']}")
    return {
        "id": project.name,
        "operation": operation,
        "status": seen["status"],
        **{key: seen[key] for key in ("running", "finished", "failed", "stopped")},
    }
