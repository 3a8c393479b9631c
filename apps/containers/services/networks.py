"""Networks: listing, inspecting, creating, removing, (dis)connecting, pruning."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import BadRequest, Conflict

from ..engine import Engine, engine_for, filters_param
from ..models import Environment

logger = logging.getLogger("dockpilot.containers.services.networks")

# The engine makes these itself and refuses to remove them.
PREDEFINED = ("bridge", "host", "none")


def _subnets(item: dict[str, Any]) -> list[dict[str, str]]:
    configs = (item.get("IPAM") or {}).get("Config") or []
    return [
        {"subnet": c.get("Subnet", ""), "gateway": c.get("Gateway", "")}
        for c in configs
    ]


def shape_network(item: dict[str, Any]) -> dict[str, Any]:
    """What a person reads in a network list, from one engine list entry."""
    return {
        "id": item["Id"],
        "name": item.get("Name", ""),
        "driver": item.get("Driver", ""),
        "scope": item.get("Scope", ""),
        "internal": bool(item.get("Internal")),
        "ipv6": bool(item.get("EnableIPv6")),
        "subnets": _subnets(item),
        "labels": item.get("Labels") or {},
        "created": item.get("Created"),
    }


def list_networks(
    environment: Environment,
    *,
    name: str | None = None,
    driver: str | None = None,
    labels: list[str] | None = None,
) -> list[dict[str, Any]]:
    """One engine call, sorted by name."""
    params = filters_param(name=name, driver=driver, label=labels)
    items = engine_for(environment).get_json("/networks", params=params)
    return sorted((shape_network(item) for item in items), key=lambda n: n["name"])


def _attached(document: dict[str, Any]) -> list[dict[str, str]]:
    endpoints = document.get("Containers") or {}
    attached = [
        {
            "id": ident,
            "name": endpoint.get("Name", ""),
            "ipv4_address": endpoint.get("IPv4Address", ""),
            "ipv6_address": endpoint.get("IPv6Address", ""),
        }
        for ident, endpoint in endpoints.items()
    ]
    return sorted(attached, key=lambda container: container["name"])


def _document(engine: Engine, ident: str) -> dict[str, Any]:
    # Identifiers come from the URL; "." and ".." would walk to another path.
    if ident in (".", ".."):
        raise BadRequest(
            f"network: '{ident}' is not a network name or id.",
            details={"field": "network"},
        )
    return dict(engine.get_json("/networks/{0}", ident))


def inspect_network(environment: Environment, ident: str) -> dict[str, Any]:
    """The engine's inspect document, plus the attached containers by name."""
    document = _document(engine_for(environment), ident)
    document["attached_containers"] = _attached(document)
    return document


def _ipam(
    subnet: str | None, gateway: str | None, ip_range: str | None
) -> dict[str, Any] | None:
    if not subnet:
        return None
    pool = {"Subnet": subnet, "Gateway": gateway, "IPRange": ip_range}
    return {
        "Driver": "default",
        "Config": [{key: value for key, value in pool.items() if value}],
    }


def create_network(
    environment: Environment, spec: dict[str, Any], *, request: HttpRequest
) -> dict[str, Any]:
    """Create a network from a validated spec (addresses already checked)."""
    engine = engine_for(environment)
    with audited(
        Action.NETWORK_CREATE,
        request=request,
        resource_type="network",
        resource_name=spec["name"],
        details={"environment": environment.name, "spec": spec},
    ) as target:
        try:
            created = engine.call(
                "create_network",
                spec["name"],
                driver=spec["driver"],
                ipam=_ipam(
                    spec.get("subnet"), spec.get("gateway"), spec.get("ip_range")
                ),
                check_duplicate=True,
                internal=spec["internal"],
                enable_ipv6=spec["enable_ipv6"],
                attachable=spec["attachable"],
                labels=spec.get("labels") or None,
            )
        except Conflict as exc:
            raise _create_conflict(spec, exc) from exc
        target.resource_id = created["Id"]
        access.record_owner(
            getattr(request, "user", None),
            environment,
            "network",
            created["Id"],
            spec["name"],
        )
    logger.info(
        "created network %s (%s) on %s",
        spec["name"],
        created["Id"][:12],
        environment.name,
    )
    return shape_network(_document(engine, created["Id"]))


def _create_conflict(spec: dict[str, Any], exc: Conflict) -> Conflict:
    # The engine answers 403 when the subnet overlaps another network's.
    if "overlaps" in str(exc.detail):
        return Conflict(
            f"subnet: {spec.get('subnet')} overlaps the subnet of a network that "
            "exists; pick a range no other network uses.",
            code="subnet_overlaps",
            details={"field": "subnet"},
        )
    return exc


def _names(attached: list[dict[str, str]]) -> list[str]:
    return [container["name"] or container["id"][:12] for container in attached]


def _refuse_removal(document: dict[str, Any]) -> None:
    name = document.get("Name", "")
    if name in PREDEFINED or document.get("Ingress"):
        raise Conflict(
            f"network '{name}' is predefined by the engine and cannot be removed.",
            code="network_predefined",
        )
    users = _names(_attached(document))
    if users:
        noun = "container" if len(users) == 1 else "containers"
        quoted = ", ".join(f"'{user}'" for user in users)
        raise Conflict(
            f"network '{name}' has {noun} {quoted} attached: disconnect or "
            f"remove the {noun} first.",
            code="network_in_use",
            details={"containers": users},
        )


def remove_network(
    environment: Environment, ident: str, *, request: HttpRequest
) -> None:
    """Remove a network; a 409 says which containers still use it."""
    engine = engine_for(environment)
    with audited(
        Action.NETWORK_DELETE,
        request=request,
        resource_type="network",
        resource_id=ident,
        details={"environment": environment.name},
    ) as target:
        document = _document(engine, ident)
        target.resource_id, target.resource_name = document["Id"], document["Name"]
        _refuse_removal(document)
        try:
            engine.call("remove_network", document["Id"])
        except Conflict:
            # A container joined between our look and the removal.
            _refuse_removal(_document(engine, document["Id"]))
            raise
        access.forget(environment, "network", [document["Id"]])
    logger.info("removed network %s on %s", target.resource_name, environment.name)


def _require_in_subnet(document: dict[str, Any], address: str | None) -> None:
    subnets = [
        ipaddress.ip_network(s["subnet"], strict=False)
        for s in _subnets(document)
        if s["subnet"]
    ]
    if not address or not subnets:
        return
    ip = ipaddress.ip_address(address)
    if not any(ip in subnet for subnet in subnets):
        ranges = ", ".join(str(subnet) for subnet in subnets)
        raise BadRequest(
            f"ipv4_address: {address} is outside the network's subnet ({ranges}); "
            "pick an address inside it.",
            details={"field": "ipv4_address"},
        )


def _member(request: HttpRequest, environment: Environment, container: str) -> str:
    # The container is named in the body: the user must be allowed to
    # operate it, exactly as if it were named in the URL.
    return access.check(
        getattr(request, "user", None), environment, "container", container, "operate"
    )


def connect_container(
    environment: Environment,
    ident: str,
    *,
    container: str,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
    request: HttpRequest,
) -> dict[str, Any]:
    """Attach a container to a network, optionally with aliases and an address."""
    engine = engine_for(environment)
    details = {
        "environment": environment.name,
        "container": container,
        "aliases": aliases or [],
        "ipv4_address": ipv4_address,
    }
    with audited(
        Action.NETWORK_CONNECT,
        request=request,
        resource_type="network",
        resource_id=ident,
        details=details,
    ) as target:
        document = _document(engine, ident)
        target.resource_id, target.resource_name = document["Id"], document["Name"]
        _require_in_subnet(document, ipv4_address)
        member = _member(request, environment, container)
        engine.call(
            "connect_container_to_network",
            member,
            document["Id"],
            aliases=aliases or None,
            ipv4_address=ipv4_address or None,
        )
    logger.info(
        "connected container %s to network %s on %s",
        container,
        document["Name"],
        environment.name,
    )
    return {"network": document["Name"], "container": container, "connected": True}


def disconnect_container(
    environment: Environment,
    ident: str,
    *,
    container: str,
    force: bool = False,
    request: HttpRequest,
) -> dict[str, Any]:
    """Detach a container from a network."""
    engine = engine_for(environment)
    details = {"environment": environment.name, "container": container, "force": force}
    with audited(
        Action.NETWORK_DISCONNECT,
        request=request,
        resource_type="network",
        resource_id=ident,
        details=details,
    ) as target:
        document = _document(engine, ident)
        target.resource_id, target.resource_name = document["Id"], document["Name"]
        member = _member(request, environment, container)
        engine.call(
            "disconnect_container_from_network", member, document["Id"], force=force
        )
    logger.info(
        "disconnected container %s from network %s on %s",
        container,
        document["Name"],
        environment.name,
    )
    return {"network": document["Name"], "container": container, "connected": False}


def prune_networks(
    environment: Environment, *, labels: list[str], request: HttpRequest
) -> dict[str, Any]:
    """Delete the networks no container uses (only those matching ``labels``)."""
    filters = {"label": labels} if labels else None
    details = {"environment": environment.name, "labels": labels}
    with audited(
        Action.NETWORK_PRUNE, request=request, resource_type="network", details=details
    ) as target:
        report = engine_for(environment).call("prune_networks", filters=filters)
        result = {"deleted": report.get("NetworksDeleted") or []}
        target.details.update(result)
        # The report names networks; the rows know them by id and name.
        access.forget_named(environment, "network", result["deleted"])
    logger.info("pruned %d networks on %s", len(result["deleted"]), environment.name)
    return result
