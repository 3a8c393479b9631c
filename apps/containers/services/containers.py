"""Containers: listing, inspecting, creating, acting on, removing, reading."""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import ErrorDetail

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import BadRequest, Conflict, NotFound, PortalError

from .. import policy, signals
from ..engine import Engine, engine_for, filters_param
from ..logs import parse_logs
from ..models import Environment
from ..specs import container_create_kwargs
from ..stats import summarize
from ..summaries import (
    collector_paused,
    decode_container_list,
    decode_entry,
    raw_entries,
)

logger = logging.getLogger("dockpilot.containers.services.containers")

STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
COMPOSE_PROJECT = "com.docker.compose.project"


def _health(status: str) -> str | None:
    for word in ("healthy", "unhealthy", "health: starting"):
        if f"({word})" in status:
            return word.replace("health: ", "")
    return None


# Lists are read again and again for the same containers: their creation
# times are formatted once (formatting is half the cost of shaping an entry).
@functools.lru_cache(maxsize=8192)
def _created(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def shape_summary(item: dict[str, Any]) -> dict[str, Any]:
    """What a person reads in a container list, from one engine list entry."""
    names = item.get("Names") or []
    labels = item.get("Labels") or {}
    status = item.get("Status", "")
    return {
        "id": item["Id"],
        "name": names[0].lstrip("/") if names else "",
        "image": item.get("Image", ""),
        "image_id": item.get("ImageID", ""),
        "command": item.get("Command", ""),
        "created": _created(item.get("Created") or 0),
        "state": item.get("State", ""),
        "status": status,
        "health": _health(status),
        "ports": [
            {
                "ip": p.get("IP"),
                "private_port": p.get("PrivatePort"),
                "public_port": p.get("PublicPort"),
                "type": p.get("Type"),
            }
            for p in item.get("Ports") or []
        ],
        "labels": labels,
        "networks": sorted((item.get("NetworkSettings") or {}).get("Networks") or {}),
        "compose_project": labels.get(COMPOSE_PROJECT),
    }


def list_params(
    *,
    all: bool = True,  # the engine's own parameter name
    name: str | None = None,
    status: str | None = None,
    labels: list[str] | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """The engine's query for a container list."""
    return {
        "all": "1" if all else "0",
        **filters_param(name=name, status=status, label=labels, ancestor=image),
    }


def summaries_of(body: bytes) -> list[dict[str, Any]]:
    """The list's entries from the engine's answer, as a person reads them."""
    with collector_paused():
        return [shape_summary(item) for item in decode_container_list(body)]


# Shaped entries by the engine's exact bytes for them: a list read again
# shows mostly the same entries, and shaping 1,000 of them costs 4 ms.
_shaped: dict[bytes, dict[str, Any]] = {}
MAX_SHAPED = 5000


def shared_summaries_of(body: bytes) -> list[dict[str, Any]]:
    """``summaries_of``, each entry shaped once for the same engine bytes.

    The same bytes always give the same entry, so nothing can be stale; but
    the dicts are shared between requests, for a caller that only renders
    them (the quick reads). More entries than ``MAX_SHAPED`` start afresh.
    """
    raws = raw_entries(body)
    if raws is None:
        return summaries_of(body)
    shaped = []
    with collector_paused():
        for raw in raws:
            entry = _shaped.get(raw)
            if entry is None:
                decoded = decode_entry(raw)
                if decoded is None:
                    return summaries_of(body)
                entry = shape_summary(decoded)
                if len(_shaped) >= MAX_SHAPED:
                    _shaped.clear()
                _shaped[raw] = entry
            shaped.append(entry)
    return shaped


def list_containers(
    environment: Environment,
    *,
    all: bool = True,  # the engine's own parameter name
    name: str | None = None,
    status: str | None = None,
    labels: list[str] | None = None,
    image: str | None = None,
) -> list[dict[str, Any]]:
    """One engine call (never the SDK's model list, which inspects each one)."""
    params = list_params(all=all, name=name, status=status, labels=labels, image=image)
    body = engine_for(environment).get_bytes("/containers/json", params=params)
    return summaries_of(body)


def _mask_env(document: dict[str, Any]) -> dict[str, Any]:
    config = document.get("Config") or {}
    if config.get("Env"):
        config["Env"] = [f"{entry.split('=', 1)[0]}=***" for entry in config["Env"]]
    return document


def inspect_container(
    environment: Environment,
    ident: str,
    *,
    reveal_env: bool = False,
    document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The engine's inspect document; env values hidden unless ``reveal_env``.

    ``document`` is one the caller already read (the access check's), so
    the engine is not asked twice in one request.
    """
    if document is None:
        document = engine_for(environment).get_json("/containers/{0}/json", ident)
    if reveal_env:
        return document
    # Imported here: the compose app builds on this one.
    from apps.compose.services.masking import hide_in_document

    return dict(hide_in_document(environment, _mask_env(document)))


def inspect_for(
    user: Any, environment: Environment, document: dict[str, Any]
) -> dict[str, Any]:
    """A container's inspect document as ``user`` may see it.

    The environment variables often hold secrets: shown to those who may
    change the container, masked for those who may only look.
    """
    reveal = access.may(user, environment, "container", document, "change")
    target = access.engine_id_of("container", document)
    return inspect_container(environment, target, reveal_env=reveal, document=document)


def _identify(engine: Engine, ident: str) -> tuple[str, str]:
    """The full id and the name of a container, for the audit row."""
    try:
        document = engine.get_json("/containers/{0}/json", ident)
    except Exception:  # identity only decorates the audit row
        return ident, ""
    return document["Id"], str(document["Name"]).lstrip("/")


def _missing_image(image: str) -> NotFound:
    # The engine's "No such image" names neither the field nor the way out.
    return NotFound(
        f"image: '{image}' is not on this engine; pull or build it first, "
        "then create the container.",
        code="image_not_found",
        details={"field": "image"},
    )


PREDEFINED_NETWORKS = ("bridge", "none", "default")


def _mounted_volumes(
    user: Any, environment: Environment, spec: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Inspect documents of the named volumes a spec mounts, access checked.

    A non-admin mounts only volumes they may see (``change`` to write to
    one), never one that does not exist yet: the engine would create it on
    the fly, and the answer would tell whether someone else's exists.
    """
    documents: dict[str, dict[str, Any]] = {}
    engine = engine_for(environment)
    for name, writes in policy.named_volumes(spec).items():
        try:
            access.check(
                user, environment, "volume", name, "change" if writes else "view"
            )
        except NotFound as exc:
            raise BadRequest(
                f"volumes: no volume '{name}' you may use; create it first "
                "(POST /api/v1/volumes/) or ask its owner for access.",
                code="volume_not_found",
                details={"field": "volumes", "volume": name},
            ) from exc
        documents[name] = engine.get_json("/volumes/{0}", name)
    return documents


def _check_network(user: Any, environment: Environment, spec: dict[str, Any]) -> None:
    # Joining a network reaches every container on it: the user needs
    # "change" on it. Namespace modes (host, container:) meet the policy.
    network = str(spec.get("network") or "")
    if not network or network in PREDEFINED_NETWORKS or network == "host":
        return
    if network.startswith("container:"):
        access.check(
            user, environment, "container", network.split(":", 1)[1], "operate"
        )
        return
    access.check(user, environment, "network", network, "change")


def check_spec(user: Any, environment: Environment, spec: dict[str, Any]) -> None:
    """Everything a container spec asks that the user's access must cover."""
    if access.is_admin(user):
        return
    volumes = _mounted_volumes(user, environment, spec)
    policy.check_container(user, environment, spec, volumes)
    _check_image_labels(environment, str(spec.get("image") or ""))
    _check_network(user, environment, spec)


def _check_image_labels(environment: Environment, image: str) -> None:
    # The engine gives a new container its image's labels: an image built
    # with Compose's labels would place the container in a Compose project.
    try:
        document = engine_for(environment).get_json("/images/{0}/json", image)
    except NotFound:
        return  # creating says the image is missing, with the way out
    labels = (document.get("Config") or {}).get("Labels")
    allow = policy.Allowances(environment.policy_allow)
    for refusal in policy.image_refusals(image, labels, allow):
        raise refusal.error(environment)


def create_container(
    environment: Environment, spec: dict[str, Any], *, request: HttpRequest
) -> dict[str, Any]:
    """Create (and optionally start) a container; the creator owns it."""
    engine = engine_for(environment)
    user = getattr(request, "user", None)
    start = spec.get("start", False)
    with audited(
        Action.CONTAINER_CREATE,
        request=request,
        resource_type="container",
        resource_name=spec.get("name", ""),
        details={"environment": environment.name, "spec": spec},
    ) as target:
        check_spec(user, environment, spec)
        kwargs = container_create_kwargs(engine, spec)
        try:
            result = engine.call("create_container", **kwargs)
        except NotFound as exc:
            if "no such image" in str(exc.detail).lower():
                raise _missing_image(spec["image"]) from exc
            raise
        target.resource_id = result["Id"]
        target.resource_name = (
            target.resource_name or _identify(engine, result["Id"])[1]
        )
        access.record_owner(
            user, environment, "container", result["Id"], target.resource_name
        )
        logger.info(
            "created container %s (%s) on %s",
            target.resource_name,
            result["Id"][:12],
            environment.name,
        )

    created = {
        "id": result["Id"],
        "name": target.resource_name,
        "warnings": result.get("Warnings") or [],
        "started": False,
    }
    if start:
        _start_created(environment, created, request=request)
    return created


def _start_created(
    environment: Environment, created: dict[str, Any], *, request: HttpRequest
) -> None:
    # The container exists even when it cannot start (a port taken, a
    # network missing): say so, with its id, rather than hide it.
    try:
        start_container(environment, created["id"], request=request)
    except PortalError as exc:
        exc.detail = ErrorDetail(
            f"container '{created['name']}' was created but did not start: "
            f"{exc.detail} Fix the cause and start it, or remove it.",
            code=exc.code,
        )
        exc.details = {**exc.details, "id": created["id"], "created": True}
        raise
    created["started"] = True


def _act(
    environment: Environment,
    ident: str,
    action: Action,
    path: str,
    *,
    request: HttpRequest,
    params: dict[str, Any] | None = None,
    timeout: float | None = None,
    not_modified: str = "",
) -> dict[str, Any]:
    engine = engine_for(environment)
    with audited(
        action,
        request=request,
        resource_type="container",
        resource_id=ident,
        details={"environment": environment.name, **(params or {})},
    ) as target:
        response = engine.post(path, ident, params=params, timeout=timeout)
        if response.status_code == 304 and not_modified:
            raise Conflict(not_modified.format(ident=ident), code="not_modified")
        target.resource_id, target.resource_name = _identify(engine, ident)
    logger.info("%s %s on %s", action, ident, environment.name)
    return {"id": target.resource_id, "name": target.resource_name}


def start_container(
    environment: Environment, ident: str, *, request: HttpRequest
) -> dict[str, Any]:
    started = _act(
        environment,
        ident,
        Action.CONTAINER_START,
        "/containers/{0}/start",
        request=request,
        not_modified="container '{ident}' is already running.",
    )
    signals.container_started.send(
        sender=Environment,
        environment=environment,
        engine_id=started["id"],
        request=request,
    )
    return started


def stop_container(
    environment: Environment, ident: str, *, timeout: int, request: HttpRequest
) -> dict[str, Any]:
    return _act(
        environment,
        ident,
        Action.CONTAINER_STOP,
        "/containers/{0}/stop",
        request=request,
        params={"t": timeout},
        timeout=settings.DOCKER_READ_TIMEOUT + timeout,
        not_modified="container '{ident}' is already stopped.",
    )


def restart_container(
    environment: Environment, ident: str, *, timeout: int, request: HttpRequest
) -> dict[str, Any]:
    return _act(
        environment,
        ident,
        Action.CONTAINER_RESTART,
        "/containers/{0}/restart",
        request=request,
        params={"t": timeout},
        timeout=settings.DOCKER_READ_TIMEOUT + timeout,
    )


def pause_container(
    environment: Environment, ident: str, *, request: HttpRequest
) -> dict[str, Any]:
    return _act(
        environment,
        ident,
        Action.CONTAINER_PAUSE,
        "/containers/{0}/pause",
        request=request,
    )


def unpause_container(
    environment: Environment, ident: str, *, request: HttpRequest
) -> dict[str, Any]:
    return _act(
        environment,
        ident,
        Action.CONTAINER_UNPAUSE,
        "/containers/{0}/unpause",
        request=request,
    )


def kill_container(
    environment: Environment, ident: str, *, signal: str, request: HttpRequest
) -> dict[str, Any]:
    return _act(
        environment,
        ident,
        Action.CONTAINER_KILL,
        "/containers/{0}/kill",
        request=request,
        params={"signal": signal},
    )


def rename_container(
    environment: Environment, ident: str, *, new_name: str, request: HttpRequest
) -> dict[str, Any]:
    engine = engine_for(environment)
    with audited(
        Action.CONTAINER_RENAME,
        request=request,
        resource_type="container",
        resource_id=ident,
        resource_name=new_name,
        details={"environment": environment.name, "name": new_name},
    ):
        engine.post("/containers/{0}/rename", ident, params={"name": new_name})
    access.renamed(environment, "container", ident, new_name)
    return {"id": ident, "name": new_name}


def remove_container(
    environment: Environment,
    ident: str,
    *,
    force: bool,
    volumes: bool,
    request: HttpRequest,
) -> None:
    engine = engine_for(environment)
    with audited(
        Action.CONTAINER_DELETE,
        request=request,
        resource_type="container",
        resource_id=ident,
        details={"environment": environment.name, "force": force, "volumes": volumes},
    ) as t:
        document = engine.get_json("/containers/{0}/json", ident)
        t.resource_id, t.resource_name = document["Id"], document["Name"].lstrip("/")
        if document["State"].get("Running") and not force:
            raise Conflict(
                f"container '{t.resource_name}' is running: stop it first, or "
                "remove it with force=true.",
                code="container_running",
            )
        engine.call("remove_container", document["Id"], force=force, v=volumes)
        access.forget(environment, "container", [document["Id"]])
    logger.info("removed container %s on %s", t.resource_name, environment.name)
    signals.container_removed.send(
        sender=Environment,
        environment=environment,
        engine_id=document["Id"],
        request=request,
    )


def logs_params(
    *,
    tail: int,
    since: int | None = None,
    until: int | None = None,
    timestamps: bool,
    stdout: bool,
    stderr: bool,
) -> dict[str, Any]:
    """The engine's query for a bounded (never followed) log read."""
    params: dict[str, Any] = {
        "stdout": int(stdout),
        "stderr": int(stderr),
        "tail": tail,
        "timestamps": int(timestamps),
    }
    if since is not None:
        params["since"] = since
    if until is not None:
        params["until"] = until
    return params


def logs_document(ident: str, data: bytes, *, timestamps: bool) -> dict[str, Any]:
    """The API's answer for a log read: the engine's bytes as lines."""
    lines = parse_logs(data, timestamps=timestamps)
    return {"id": ident, "lines": [line.as_dict() for line in lines]}


def container_logs(
    environment: Environment, ident: str, *, timestamps: bool, **query: Any
) -> dict[str, Any]:
    """A bounded read of the log, demultiplexed, invalid UTF-8 replaced.

    ``query`` is ``logs_params``'s: tail, since, until, stdout, stderr.
    """
    params = logs_params(timestamps=timestamps, **query)
    data = engine_for(environment).get_bytes(
        "/containers/{0}/logs", ident, params=params
    )
    return logs_document(ident, data, timestamps=timestamps)


def _require_running(engine: Engine, ident: str) -> dict[str, Any]:
    document = engine.get_json("/containers/{0}/json", ident)
    if not document["State"].get("Running"):
        name = document["Name"].lstrip("/")
        raise Conflict(
            f"container '{name}' is {document['State'].get('Status', 'not running')}: "
            "start it to read its stats or processes.",
            code="container_not_running",
        )
    return document


def container_stats(environment: Environment, ident: str) -> dict[str, Any]:
    """One sample with CPU %: the engine reads twice, about a second apart."""
    engine = engine_for(environment)
    document = _require_running(engine, ident)
    sample = engine.get_json(
        "/containers/{0}/stats", document["Id"], params={"stream": "false"}
    )
    return {
        "id": document["Id"],
        "name": document["Name"].lstrip("/"),
        **summarize(sample),
    }


def container_top(
    environment: Environment, ident: str, ps_args: str | None = None
) -> dict[str, Any]:
    engine = engine_for(environment)
    document = _require_running(engine, ident)
    params = {"ps_args": ps_args} if ps_args else None
    top = engine.get_json("/containers/{0}/top", document["Id"], params=params)
    return {
        "id": document["Id"],
        "titles": top.get("Titles") or [],
        "processes": top.get("Processes") or [],
    }
