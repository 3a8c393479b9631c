"""Where a tunnel's process reaches the container it exposes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.containers.engine import engine_for
from dockpilot.errors import Conflict, NotFound

from .models import TunnelConfig

# A published port bound to every interface is reached on loopback.
_ANY = {"", "0.0.0.0", "::"}  # noqa: S104 - compared, never bound


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    network: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class TargetGone(NotFound):
    default_code = "target_gone"


def inspect(tunnel: TunnelConfig) -> dict[str, Any]:
    try:
        return dict(
            engine_for(tunnel.environment).get_json(
                "/containers/{0}/json", tunnel.container_id
            )
        )
    except NotFound as exc:
        raise TargetGone(
            f"container '{tunnel.container_name or tunnel.container_id[:12]}' "
            "no longer exists: the tunnel has nothing to expose."
        ) from exc


def _running(tunnel: TunnelConfig, document: dict[str, Any]) -> None:
    if not document.get("State", {}).get("Running"):
        raise Conflict(
            f"container '{tunnel.container_name}' is not running: start it, "
            "then start the tunnel.",
            code="container_not_running",
        )


def for_process(tunnel: TunnelConfig) -> Target:
    """The address a process on the worker's machine connects to.

    A port published on the host is preferred (loopback when it is bound to
    every interface); otherwise the container's own address, which only a
    worker on the engine's machine can reach.
    """
    document = inspect(tunnel)
    _running(tunnel, document)
    ports = (document.get("NetworkSettings") or {}).get("Ports") or {}
    for binding in ports.get(f"{tunnel.target_port}/tcp") or []:
        host = binding.get("HostIp", "")
        return Target("127.0.0.1" if host in _ANY else host, int(binding["HostPort"]))
    return for_sidecar(tunnel, document)


def for_sidecar(tunnel: TunnelConfig, document: dict[str, Any] | None = None) -> Target:
    """The container's address on its first network, for a sidecar there."""
    document = document or inspect(tunnel)
    _running(tunnel, document)
    networks = (document.get("NetworkSettings") or {}).get("Networks") or {}
    for name, network in networks.items():
        if network.get("IPAddress"):
            return Target(network["IPAddress"], tunnel.target_port, name)
    raise Conflict(
        f"container '{tunnel.container_name}' has no network address and does "
        f"not publish port {tunnel.target_port}: publish it or attach a network.",
        code="target_unreachable",
    )
