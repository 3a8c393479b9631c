"""Turning a validated container spec into the SDK's create arguments."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .engine import Engine


def _port_bindings(ports: list[dict[str, Any]]) -> tuple[list[Any], dict[str, Any]]:
    exposed: list[Any] = []
    bindings: dict[str, Any] = {}
    for port in ports:
        key = f"{port['container_port']}/{port.get('protocol', 'tcp')}"
        exposed.append((port["container_port"], port.get("protocol", "tcp")))
        host = (
            port.get("host_ip") or settings.PUBLISH_ADDRESS,
            port.get("host_port") or None,
        )
        bindings.setdefault(key, []).append(host)
    return exposed, bindings


def _mounts(volumes: list[dict[str, Any]]) -> list[str]:
    # A list, not a dict keyed by source: one volume may be mounted at several
    # targets, and a lost entry would leave an anonymous volume in its place.
    return [
        f"{volume['source']}:{volume['target']}:"
        + ("ro" if volume.get("read_only") else "rw")
        for volume in volumes
    ]


def _engine_mounts(mounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # In the engine's own shape; the SDK passes dicts through unchanged.
    return [
        {
            "Type": mount["type"],
            "Target": mount["target"],
            "ReadOnly": mount.get("read_only", False),
            **({"Source": mount["source"]} if mount.get("source") else {}),
        }
        for mount in mounts
    ]


def _host_config(engine: Engine, spec: dict[str, Any]) -> Any:
    # The security policy (policy.py) has already passed every setting here.
    _, bindings = _port_bindings(spec.get("ports") or [])
    binds = _mounts(spec.get("volumes") or []) + list(spec.get("binds") or [])
    options: dict[str, Any] = {
        "port_bindings": bindings or None,
        "binds": binds or None,
        "mounts": _engine_mounts(spec.get("mounts") or []) or None,
        "restart_policy": _restart_policy(spec.get("restart_policy")),
        "mem_limit": spec.get("memory"),
        "nano_cpus": int(spec["cpus"] * 1e9) if spec.get("cpus") else None,
        "network_mode": spec.get("network"),
        "privileged": spec.get("privileged") or None,
        "cap_add": spec.get("cap_add") or None,
        "devices": spec.get("devices") or None,
        "security_opt": spec.get("security_opt") or None,
        "sysctls": spec.get("sysctls") or None,
        "pid_mode": spec.get("pid_mode"),
        "ipc_mode": spec.get("ipc_mode"),
        "uts_mode": spec.get("uts_mode"),
        "userns_mode": spec.get("userns_mode"),
    }
    return engine.api.create_host_config(
        **{key: value for key, value in options.items() if value is not None}
    )


def _restart_policy(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    if not policy or policy.get("name") in (None, "", "no"):
        return None
    result = {"Name": policy["name"]}
    if policy["name"] == "on-failure":
        result["MaximumRetryCount"] = policy.get("maximum_retry_count", 0)
    return result


def container_create_kwargs(engine: Engine, spec: dict[str, Any]) -> dict[str, Any]:
    """Arguments for ``APIClient.create_container`` from a validated spec."""
    exposed, _ = _port_bindings(spec.get("ports") or [])
    volumes = [volume["target"] for volume in spec.get("volumes") or []]
    kwargs: dict[str, Any] = {
        "image": spec["image"],
        "name": spec.get("name") or None,
        "command": spec.get("command"),
        "entrypoint": spec.get("entrypoint"),
        "environment": spec.get("env") or None,
        "labels": spec.get("labels") or None,
        "ports": exposed or None,
        "volumes": volumes or None,
        "working_dir": spec.get("working_dir") or None,
        "user": spec.get("user") or None,
        "hostname": spec.get("hostname") or None,
        "tty": spec.get("tty", False),
        "stdin_open": spec.get("stdin_open", False),
        "host_config": _host_config(engine, spec),
    }
    return {key: value for key, value in kwargs.items() if value is not None}
