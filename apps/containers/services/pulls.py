"""Pulling images as background jobs, with progress per layer."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from apps.accounts.models import User
from apps.audit.models import Action
from apps.jobs.models import Job, Kind
from apps.jobs.services import JobFailed, JobRun, environment_of, submit
from apps.registries.services import login_for

from ..engine import engine_for
from ..longcalls import open_stream, registry_auth_header
from ..references import Reference, parse_reference

logger = logging.getLogger("dockpilot.containers.services.pulls")

# How far along a layer is when the engine reports each state, out of 1.
_DOWNLOADED = 0.5
_DONE_STATES = {"Pull complete", "Already exists"}
_DOWNLOADED_STATES = {"Verifying Checksum", "Download complete"}


def submit_pull(
    environment: Any,
    *,
    image: str,
    platform: str,
    credential: int | None,
    user: User,
    request: HttpRequest,
) -> Job:
    """Validate a pull and queue it; a bad reference or credential is a 400 now."""
    reference = parse_reference(image)
    if credential is not None:
        login_for(user, credential, reference.registry)
    return submit(
        Kind.PULL,
        request=request,
        user=user,
        environment=environment,
        target=str(reference),
        params={
            "repository": reference.repository,
            "tag": reference.tag,
            "digest": reference.digest,
            "registry": reference.registry,
            "platform": platform,
            "credential": credential,
        },
        audit_action=Action.IMAGE_PULL,
    )


class PullProgress:
    """Folds the engine's pull messages into per-layer state and a percentage."""

    def __init__(self) -> None:
        self.layers: dict[str, dict[str, Any]] = {}
        self.digest = ""

    def update(self, message: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Take one engine message; return (text, event) when worth showing."""
        status = str(message.get("status", ""))
        layer = message.get("id")
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ")
        if not layer or status.startswith("Pulling from"):
            return status, {"status": status}
        detail = message.get("progressDetail") or {}
        current, total = detail.get("current"), detail.get("total")
        previous = self.layers.get(layer, {})
        state = {"status": status, "current": current, "total": total}
        self.layers[layer] = state
        if not self._worth_showing(previous, state):
            return None
        return self._line(layer, state), {"layer": layer, **state}

    @staticmethod
    def _worth_showing(previous: dict[str, Any], state: dict[str, Any]) -> bool:
        # Every state change, and a tenth of a layer at a time in between:
        # the engine sends a message every few kilobytes.
        if previous.get("status") != state["status"]:
            return True
        return _tenth(previous) != _tenth(state)

    @staticmethod
    def _line(layer: str, state: dict[str, Any]) -> str:
        if state["total"]:
            return (
                f"{layer}: {state['status']} {_mb(state['current'])} of "
                f"{_mb(state['total'])}"
            )
        return f"{layer}: {state['status']}"

    def percent(self) -> int | None:
        if not self.layers:
            return None
        done = sum(_layer_fraction(state) for state in self.layers.values())
        return int(100 * done / len(self.layers))


def _tenth(state: dict[str, Any]) -> int:
    current, total = state.get("current"), state.get("total")
    return int(10 * current / total) if current and total else -1


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1_000_000:.1f} MB"


def _layer_fraction(state: dict[str, Any]) -> float:
    status, current, total = state["status"], state["current"], state["total"]
    if status in _DONE_STATES:
        return 1.0
    if status in _DOWNLOADED_STATES:
        return _DOWNLOADED
    share = (current / total) if current and total else 0.0
    if status == "Downloading":
        return _DOWNLOADED * share
    if status == "Extracting":
        return _DOWNLOADED + (1 - _DOWNLOADED) * share
    return 0.0


def _pull_params(params: dict[str, Any]) -> dict[str, Any]:
    # The engine's "tag" parameter takes a digest too; never leave both out,
    # or it pulls every tag of the repository.
    query = {
        "fromImage": params["repository"],
        "tag": params["digest"] or params["tag"],
    }
    if params.get("platform"):
        query["platform"] = params["platform"]
    return query


def _auth_headers(job: Job) -> dict[str, str]:
    credential = job.params.get("credential")
    if credential is None or job.user is None:
        return {}
    login = login_for(job.user, credential, job.params.get("registry", ""))
    return {"X-Registry-Auth": registry_auth_header(login.auth_config())}


def run_pull(run: JobRun) -> dict[str, Any]:
    """Pull in the worker, reporting each layer; a stream error fails the job."""
    job = run.job
    engine = engine_for(environment_of(job))
    stream = open_stream(
        engine,
        "/images/create",
        params=_pull_params(job.params),
        headers=_auth_headers(job),
    )
    run.on_cancel(stream.cut)
    progress = PullProgress()
    for message in stream.messages():
        if message.get("error"):
            raise JobFailed(_stream_error(job.target, message))
        shown = progress.update(message)
        if shown is not None:
            run.set_progress(progress.percent())
            run.emit(*shown)
    run.raise_if_canceled()
    return _pulled(engine, job, progress)


def _stream_error(target: str, message: dict[str, Any]) -> str:
    detail = message.get("errorDetail") or {}
    reason = detail.get("message") or message.get("error")
    return f"pulling {target} failed: {reason}"


def _pulled(engine: Any, job: Job, progress: PullProgress) -> dict[str, Any]:
    reference = Reference(
        registry=job.params.get("registry", ""),
        repository=job.params["repository"],
        tag=job.params["tag"],
        digest=job.params["digest"],
    )
    image = engine.call("inspect_image", str(reference))
    logger.info("pulled %s on %s: %s", reference, engine.environment_name, image["Id"])
    return {"id": image["Id"], "image": str(reference), "digest": progress.digest}
