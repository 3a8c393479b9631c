"""Building images as background jobs, from a Dockerfile or an uploaded context.

The web process checks the upload and writes the repacked context under
DATA_DIR; the worker streams it to the engine and removes it. Workers on
other machines therefore need DATA_DIR on shared storage.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.http import HttpRequest

from apps.accounts import access
from apps.accounts.models import User
from apps.audit.models import Action, Outcome
from apps.audit.services import record
from apps.jobs.models import Job, Kind
from apps.jobs.services import JobFailed, JobRun, environment_of, submit
from dockpilot.errors import PortalError

from .. import policy
from ..buildcontext import refuse, write_context
from ..engine import engine_for
from ..longcalls import open_stream
from .images import require_free_tag

logger = logging.getLogger("dockpilot.containers.services.builds")

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")
_BUILT = re.compile(r"^Successfully built ([0-9a-f]{12,64})")


def contexts_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "build-contexts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def submit_build(
    environment: Any,
    *,
    options: dict[str, Any],
    upload: IO[bytes] | None,
    upload_size: int,
    user: User,
    request: HttpRequest,
) -> Job:
    """Check the context and options, store the context, and queue the build."""
    max_bytes = settings.BUILD_CONTEXT_MAX_MB * 1_000_000
    if upload_size > max_bytes:
        raise refuse(
            f"the upload is larger than {settings.BUILD_CONTEXT_MAX_MB} MB "
            "(DOCKPILOT_BUILD_CONTEXT_MAX_MB); leave large files out with "
            ".dockerignore."
        )
    _check_names(environment, options, user, request)
    path = contexts_dir() / f"{uuid.uuid4().hex}.tar"
    try:
        summary = write_context(
            path,
            upload=upload,
            dockerfile_text=options.get("dockerfile", ""),
            dockerfile_path=options.get("dockerfile_path") or "Dockerfile",
            max_bytes=max_bytes,
        )
        return submit(
            Kind.BUILD,
            request=request,
            user=user,
            environment=environment,
            target=", ".join(options["tags"]) or "(untagged)",
            params={
                **_stored(options),
                "context": path.name,
                "context_summary": summary,
            },
            audit_action=Action.IMAGE_BUILD,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _check_names(
    environment: Any, options: dict[str, Any], user: User, request: HttpRequest
) -> None:
    """Tags a non-admin may not move and labels they may not set; a refusal
    is audited as the build it stops."""
    tags = list(options.get("tags") or [])
    try:
        for tag in tags:
            require_free_tag(environment, tag, user)
        if not access.is_admin(user):
            allow = policy.Allowances(environment.policy_allow)
            labels = options.get("labels") or {}
            for refusal in policy.label_refusals(labels, allow):
                raise refusal.error(environment)
    except PortalError as exc:
        record(
            Action.IMAGE_BUILD,
            request=request,
            resource_type="image",
            resource_name=", ".join(tags) or "(untagged)",
            outcome=Outcome.FAILURE,
            reason=str(exc.detail),
            details={"environment": environment.name},
        )
        raise


def _stored(options: dict[str, Any]) -> dict[str, Any]:
    # The Dockerfile text is in the stored context; the job keeps the options.
    return {k: v for k, v in options.items() if k != "dockerfile"}


def _build_params(params: dict[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {
        "t": params["tags"],
        "dockerfile": params.get("dockerfile_path") or "Dockerfile",
        "nocache": params.get("no_cache", False),
        "pull": params.get("pull", False),
        "rm": True,
        "forcerm": True,
    }
    if params.get("build_args"):
        query["buildargs"] = json.dumps(params["build_args"])
    if params.get("labels"):
        query["labels"] = json.dumps(params["labels"])
    if params.get("target"):
        query["target"] = params["target"]
    if params.get("platform"):
        query["platform"] = params["platform"]
    return query


class BuildOutput:
    """Follows the classic builder's output: steps, the image id, errors."""

    def __init__(self) -> None:
        self.step = ""
        self.image_id = ""
        self.percent: int | None = None

    def take(self, message: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        aux = message.get("aux") or {}
        if aux.get("ID"):
            self.image_id = aux["ID"]
        text = str(message.get("stream", "")).rstrip("\n")
        if not text.strip():
            return None
        built = _BUILT.match(text)
        if built and not self.image_id:
            self.image_id = built[1]
        match = _STEP.match(text)
        if match is None:
            return text, {"stream": text}
        number, count, instruction = int(match[1]), int(match[2]), match[3]
        self.step = text
        self.percent = int(100 * (number - 1) / count)
        return text, {"step": number, "of": count, "instruction": instruction}

    def failure(self, message: dict[str, Any]) -> str:
        detail = message.get("errorDetail") or {}
        reason = detail.get("message") or message.get("error")
        return f"{self.step or 'the build'} failed: {reason}"


def run_build(run: JobRun) -> dict[str, Any]:
    """Stream the stored context to the engine; a failing step fails the job."""
    job = run.job
    path = contexts_dir() / Path(job.params["context"]).name
    try:
        return _build(run, job, path)
    finally:
        path.unlink(missing_ok=True)


def _build(run: JobRun, job: Job, path: Path) -> dict[str, Any]:
    engine = engine_for(environment_of(job))
    output = BuildOutput()
    with path.open("rb") as context:
        stream = open_stream(
            engine,
            "/build",
            params=_build_params(job.params),
            headers={"Content-Type": "application/x-tar"},
            data=context,
        )
        run.on_cancel(stream.cut)
        for message in stream.messages():
            if message.get("error"):
                raise JobFailed(output.failure(message))
            shown = output.take(message)
            if shown is not None:
                run.set_progress(output.percent)
                run.emit(*shown)
    run.raise_if_canceled()
    if not output.image_id:
        raise JobFailed("the engine ended the build without naming an image.")
    logger.info(
        "built %s on %s: %s", job.target, engine.environment_name, output.image_id
    )
    return {"id": output.image_id, "tags": job.params["tags"]}
