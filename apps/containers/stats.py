"""Reading one stats sample of the engine the way ``docker stats`` does.

cgroup v1 and v2 report memory differently: page cache is ``cache`` (v1) or
``inactive_file`` (v2) and is subtracted, since the kernel can drop it.
"""

from __future__ import annotations

from typing import Any


def cpu_percent(sample: dict[str, Any]) -> float | None:
    cpu = sample.get("cpu_stats") or {}
    pre = sample.get("precpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    pre_total = (pre.get("cpu_usage") or {}).get("total_usage")
    system, pre_system = cpu.get("system_cpu_usage"), pre.get("system_cpu_usage")
    if total is None or pre_total is None or system is None or pre_system is None:
        return None
    cpu_delta, system_delta = total - pre_total, system - pre_system
    online = (
        cpu.get("online_cpus")
        or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [])
        or 1
    )
    if system_delta <= 0 or cpu_delta < 0:
        return 0.0
    return round(cpu_delta / system_delta * online * 100.0, 2)


def memory(sample: dict[str, Any]) -> dict[str, Any]:
    mem = sample.get("memory_stats") or {}
    usage = mem.get("usage")
    limit = mem.get("limit")
    details = mem.get("stats") or {}
    if "inactive_file" in details and "total_inactive_file" not in details:
        cgroup, cache = 2, details.get("inactive_file", 0)
    else:
        cgroup, cache = 1, details.get("cache", 0)
    used = max(usage - cache, 0) if usage is not None else None
    percent = round(used / limit * 100.0, 2) if used is not None and limit else None
    return {"used": used, "limit": limit, "percent": percent, "cgroup": cgroup}


def network(sample: dict[str, Any]) -> dict[str, int] | None:
    # Absent, not zero, when the container has no network of its own
    # (network mode none or host): the engine then sends no "networks".
    networks = sample.get("networks")
    if not networks:
        return None
    return {
        "rx_bytes": sum(n.get("rx_bytes", 0) for n in networks.values()),
        "tx_bytes": sum(n.get("tx_bytes", 0) for n in networks.values()),
    }


def block_io(sample: dict[str, Any]) -> dict[str, int]:
    entries = (sample.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(e.get("value", 0) for e in entries if str(e.get("op")).lower() == "read")
    write = sum(
        e.get("value", 0) for e in entries if str(e.get("op")).lower() == "write"
    )
    return {"read_bytes": read, "write_bytes": write}


def summarize(sample: dict[str, Any]) -> dict[str, Any]:
    """The fields a person reads, from one engine stats document."""
    return {
        "read_at": sample.get("read"),
        "cpu_percent": cpu_percent(sample),
        "memory": memory(sample),
        "network": network(sample),
        "block_io": block_io(sample),
        "pids": (sample.get("pids_stats") or {}).get("current"),
    }
