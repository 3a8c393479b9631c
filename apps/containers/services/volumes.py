"""Volumes: listing, inspecting, creating, removing and pruning."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import BadRequest, Conflict, NotFound

from .. import policy
from ..engine import Engine, engine_for, filters_param
from ..models import Environment

logger = logging.getLogger("dockpilot.containers.services.volumes")

LOCAL_DRIVER = "local"
# Mount options whose values must not reach the audit log (CIFS, NFS auth).
_SECRET_OPTION = re.compile(r"pass|secret|cred|token|key", re.IGNORECASE)


def shape_volume(item: dict[str, Any]) -> dict[str, Any]:
    """What a person reads in a volume list, from one engine list entry."""
    return {
        "name": item["Name"],
        "driver": item.get("Driver", ""),
        "mountpoint": item.get("Mountpoint", ""),
        "created": item.get("CreatedAt"),
        "labels": item.get("Labels") or {},
        "scope": item.get("Scope", ""),
        "options": item.get("Options") or {},
    }


def list_volumes(
    environment: Environment,
    *,
    dangling: bool | None = None,
    labels: list[str] | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """One engine call, sorted by name."""
    params = filters_param(dangling=dangling, label=labels, name=name)
    listing = engine_for(environment).get_json("/volumes", params=params)
    shaped = [shape_volume(item) for item in listing.get("Volumes") or []]
    return sorted(shaped, key=lambda volume: volume["name"])


def checked_name(name: str) -> str:
    # Names come from the URL; "." and ".." would walk to another engine path.
    if name in (".", ".."):
        raise BadRequest(
            f"volume: '{name}' is not a volume name.", details={"field": "volume"}
        )
    return name


def inspect_volume(environment: Environment, name: str) -> dict[str, Any]:
    """The engine's inspect document of a volume."""
    return dict(engine_for(environment).get_json("/volumes/{0}", checked_name(name)))


def _refuse_existing(engine: Engine, name: str) -> None:
    # The engine answers a create for a name that exists with the existing
    # volume, which would then be recorded as the caller's: refuse instead.
    if not name:
        return
    try:
        engine.get_json("/volumes/{0}", name)
    except NotFound:
        return
    raise Conflict(
        f"name: a volume named '{name}' exists already; pick another name.",
        code="volume_exists",
        details={"field": "name"},
    )


def _audit_options(options: dict[str, str]) -> dict[str, str]:
    def clean(value: str) -> str:
        parts = [
            part.split("=", 1)[0] + "=***" if _SECRET_OPTION.search(part) else part
            for part in value.split(",")
        ]
        return ",".join(parts)

    return {key: clean(value) for key, value in options.items()}


def create_volume(
    environment: Environment,
    *,
    name: str = "",
    driver: str = LOCAL_DRIVER,
    driver_opts: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    request: HttpRequest,
) -> dict[str, Any]:
    """Create a volume that its creator owns; host paths meet the policy."""
    options = driver_opts or {}
    details = {
        "environment": environment.name,
        "driver": driver,
        "driver_opts": _audit_options(options),
        "labels": labels or {},
    }
    with audited(
        Action.VOLUME_CREATE,
        request=request,
        resource_type="volume",
        resource_id=name,
        resource_name=name,
        details=details,
    ) as target:
        user = getattr(request, "user", None)
        policy.check_volume_options(user, environment, driver, options)
        engine = engine_for(environment)
        _refuse_existing(engine, name)
        created = engine.call(
            "create_volume",
            name or None,
            driver=driver,
            driver_opts=options or None,
            labels=labels or None,
        )
        target.resource_id = target.resource_name = created["Name"]
        access.record_owner(
            user, environment, "volume", created["Name"], created["Name"]
        )
    logger.info("created volume %s on %s", created["Name"], environment.name)
    return shape_volume(created)


def _users_of(engine: Engine, name: str) -> list[str]:
    filters = orjson.dumps({"volume": [name]}).decode()
    containers = engine.get_json(
        "/containers/json", params={"all": "1", "filters": filters}
    )
    return sorted(c["Names"][0].lstrip("/") for c in containers if c.get("Names"))


def _in_use(engine: Engine, name: str, exc: Conflict) -> Conflict:
    users = _users_of(engine, name)
    if not users:
        return exc
    noun = "container" if len(users) == 1 else "containers"
    quoted = ", ".join(f"'{user}'" for user in users)
    return Conflict(
        f"volume '{name}' is used by {noun} {quoted}: remove the {noun} first.",
        code="volume_in_use",
        details={"containers": users},
    )


def remove_volume(
    environment: Environment, name: str, *, force: bool, request: HttpRequest
) -> None:
    """Remove a volume; a 409 names the containers that use it."""
    engine = engine_for(environment)
    with audited(
        Action.VOLUME_DELETE,
        request=request,
        resource_type="volume",
        resource_id=name,
        resource_name=name,
        details={"environment": environment.name, "force": force},
    ):
        checked_name(name)
        try:
            engine.call("remove_volume", name, force=force)
        except Conflict as exc:
            raise _in_use(engine, name, exc) from exc
        access.forget(environment, "volume", [name])
    logger.info("removed volume %s on %s", name, environment.name)


def prune_volumes(
    environment: Environment, *, labels: list[str], request: HttpRequest
) -> dict[str, Any]:
    """Delete the volumes no container uses (only those matching ``labels``)."""
    filters = {"label": labels} if labels else None
    details = {"environment": environment.name, "labels": labels}
    with audited(
        Action.VOLUME_PRUNE, request=request, resource_type="volume", details=details
    ) as target:
        report = engine_for(environment).call("prune_volumes", filters=filters)
        result = {
            "deleted": report.get("VolumesDeleted") or [],
            "space_reclaimed": report.get("SpaceReclaimed", 0),
        }
        target.details.update(result)
        access.forget(environment, "volume", result["deleted"])
    logger.info("pruned %d volumes on %s", len(result["deleted"]), environment.name)
    return result
