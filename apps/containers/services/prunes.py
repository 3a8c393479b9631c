"""Prunes as background jobs: containers, images, volumes, networks, build cache.

Each reports what it removed and the space it reclaimed. A prune only takes
what matches every given label (the build cache has no labels; it takes
``until`` and ``all`` only).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from apps.accounts.models import User
from apps.audit.models import Action
from apps.jobs.models import Job, Kind
from apps.jobs.services import JobRun, environment_of, submit
from dockpilot.errors import BadRequest

from ..engine import engine_for

logger = logging.getLogger("dockpilot.containers.services.prunes")

ACTIONS = {
    "containers": Action.CONTAINER_PRUNE,
    "images": Action.IMAGE_PRUNE,
    "volumes": Action.VOLUME_PRUNE,
    "networks": Action.NETWORK_PRUNE,
    "build_cache": Action.BUILD_CACHE_PRUNE,
}


def submit_prune(
    environment: Any,
    *,
    what: str,
    labels: list[str],
    all_unused: bool,
    until: str,
    user: User,
    request: HttpRequest,
) -> Job:
    """Queue a prune of one kind of resource."""
    if what == "build_cache" and labels:
        raise BadRequest(
            "labels: the build cache has no labels; prune it by 'until' or 'all'.",
            details={"field": "labels"},
        )
    return submit(
        Kind.PRUNE,
        request=request,
        user=user,
        environment=environment,
        target=what,
        params={"what": what, "labels": labels, "all": all_unused, "until": until},
        audit_action=ACTIONS[what],
    )


def _filters(params: dict[str, Any]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if params["labels"]:
        filters["label"] = params["labels"]
    if params["until"]:
        filters["until"] = params["until"]
    if params["what"] == "images":
        # dangling=false makes the engine take every unused image, tagged or not.
        filters["dangling"] = "false" if params["all"] else "true"
    return filters


def _removed(what: str, report: dict[str, Any]) -> list[str]:
    if what == "images":
        entries = report.get("ImagesDeleted") or []
        return [e.get("Deleted") or e.get("Untagged", "") for e in entries]
    key = {
        "containers": "ContainersDeleted",
        "volumes": "VolumesDeleted",
        "networks": "NetworksDeleted",
        "build_cache": "CachesDeleted",
    }[what]
    return list(report.get(key) or [])


def _call(engine: Any, params: dict[str, Any]) -> dict[str, Any]:
    what = params["what"]
    filters = _filters(params)
    if what == "build_cache":
        return engine.call("prune_builds", filters=filters or None, all=params["all"])
    return engine.call(f"prune_{what}", filters=filters)


def run_prune(run: JobRun) -> dict[str, Any]:
    job = run.job
    what = job.params["what"]
    run.emit(f"pruning {what.replace('_', ' ')} on {environment_of(job).name}")
    report = _call(engine_for(environment_of(job)), job.params) or {}
    removed = _removed(what, report)
    result = {
        "removed": removed,
        "count": len(removed),
        "space_reclaimed": report.get("SpaceReclaimed", 0),
    }
    for item in removed:
        run.emit(f"removed {item}", {"removed": item})
    run.emit(f"{len(removed)} removed, {result['space_reclaimed']} bytes reclaimed")
    logger.info("pruned %d %s on %s", len(removed), what, environment_of(job).name)
    return result
