"""What a project's containers are doing: ``ps``, status, merged logs."""

from __future__ import annotations

import logging
import re
from typing import Any

from apps.containers.engine import engine_for
from apps.containers.logs import parse_logs
from apps.containers.services.containers import shape_summary

from ..models import ComposeProject, ProjectStatus
from .projects import project_containers

logger = logging.getLogger("dockpilot.compose.services.status")

SERVICE_LABEL = "com.docker.compose.service"
ONE_OFF_LABEL = "com.docker.compose.oneoff"
_EXITED = re.compile(r"^Exited \((?P<code>-?\d+)\)")
MAX_LOG_LINES = 10_000


def _exit_code(status: str) -> int | None:
    found = _EXITED.match(status)
    return int(found["code"]) if found else None


def _container(item: dict[str, Any]) -> dict[str, Any]:
    shaped = shape_summary(item)
    return {
        "id": shaped["id"],
        "name": shaped["name"],
        "image": shaped["image"],
        "state": shaped["state"],
        "status": shaped["status"],
        "health": shaped["health"],
        "exit_code": _exit_code(shaped["status"]),
        "ports": shaped["ports"],
    }


def _service_state(containers: list[dict[str, Any]], stopped: bool) -> str:
    """running, finished (exited 0), failed, or stopped, for one service."""
    states = {container["state"] for container in containers}
    if any(c["health"] == "unhealthy" for c in containers) or "restarting" in states:
        return "failed"
    if "running" in states:
        return "running"
    if stopped:
        return "stopped"
    codes = [c["exit_code"] for c in containers if c["state"] == "exited"]
    if "dead" in states or any(code not in (0, None) for code in codes):
        return "failed"
    if codes and all(code == 0 for code in codes):
        return "finished"
    return "stopped"


def _project_status(state: dict[str, list[str]]) -> str:
    if not any(state.values()):
        return ProjectStatus.DOWN
    if state["failed"]:
        return ProjectStatus.FAILED
    if state["running"]:
        return ProjectStatus.PARTIAL if state["stopped"] else ProjectStatus.RUNNING
    if state["stopped"]:
        return ProjectStatus.STOPPED
    return ProjectStatus.FINISHED


def project_ps(project: ComposeProject) -> dict[str, Any]:
    """Each service with its containers, state and health; the project's status.

    A one-shot service that exited 0 (an init or a migration) is
    "finished", not failed; one stopped through the portal is "stopped"
    whatever its exit code. Known shortcoming: a service stopped outside
    the portal (``docker stop``) exits 137 or 143 and shows as failed, as
    nothing tells that stop from a crash.
    """
    items = [
        item
        for item in project_containers(project)
        if (item.get("Labels") or {}).get(ONE_OFF_LABEL) != "True"
    ]
    services: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        service = (item.get("Labels") or {}).get(SERVICE_LABEL, "")
        services.setdefault(service, []).append(_container(item))

    state: dict[str, list[str]] = {
        "running": [],
        "finished": [],
        "failed": [],
        "stopped": [],
    }
    shown = []
    for name in sorted(services):
        containers = sorted(services[name], key=lambda c: c["name"])
        stopped = name in project.stopped_services
        service_state = _service_state(containers, stopped)
        state[service_state].append(name)
        shown.append(
            {"service": name, "state": service_state, "containers": containers}
        )
    return {"status": _project_status(state), "services": shown, **state}


def refresh_status(project: ComposeProject) -> dict[str, Any]:
    """Read ``ps`` and store the project's status and services' states."""
    seen = project_ps(project)
    status = seen["status"]
    state = {key: seen[key] for key in ("running", "finished", "failed", "stopped")}
    ComposeProject.objects.filter(pk=project.pk).update(
        status=status, services_state=state
    )
    project.status, project.services_state = status, state
    return seen


def _moment(stamp: str) -> str:
    # The engine trims trailing zeros of the nanoseconds: pad them back so
    # that the stamps sort as text in time order.
    head, dot, rest = stamp.partition(".")
    if not dot:
        return stamp
    fraction = rest.rstrip("Z")
    return f"{head}.{fraction.ljust(9, '0')}Z"


def project_logs(
    project: ComposeProject,
    *,
    tail: int,
    since: int | None,
    timestamps: bool,
    services: list[str],
) -> dict[str, Any]:
    """The logs of the project's containers merged in time order.

    ``tail`` counts per container, as ``docker compose logs --tail`` does;
    the lines are read with timestamps to be merged, which are shown only
    when asked for.
    """
    engine = engine_for(project.environment)
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "tail": tail, "timestamps": 1}
    if since is not None:
        params["since"] = since
    merged: list[dict[str, Any]] = []
    for item in project_containers(project):
        labels = item.get("Labels") or {}
        service = labels.get(SERVICE_LABEL, "")
        if services and service not in services:
            continue
        name = shape_summary(item)["name"]
        data = engine.get_bytes("/containers/{0}/logs", item["Id"], params=params)
        for entry in parse_logs(data, timestamps=True):
            merged.append({"service": service, "container": name, **entry.as_dict()})
    merged.sort(key=lambda line: _moment(str(line.get("timestamp", ""))))
    merged = merged[-MAX_LOG_LINES:]
    if not timestamps:
        for line in merged:
            line.pop("timestamp", None)
    return {"project": project.name, "lines": merged}
