"""Facts about an environment's engine and host, for the dashboard."""

from __future__ import annotations

from typing import Any

from ..engine import engine_for
from ..models import Environment


def engine_facts(environment: Environment) -> dict[str, Any]:
    """Engine version and host facts: two small engine calls, no disk walk.

    ``/system/df`` would add disk usage but walks every layer and volume
    (seconds on a busy host); the dashboard sums image sizes instead.
    """
    engine = engine_for(environment)
    info = engine.get_json("/info")
    version = engine.get_json("/version")
    return {
        "version": version.get("Version", ""),
        "api_version": version.get("ApiVersion", ""),
        "os": info.get("OperatingSystem", ""),
        "kernel": info.get("KernelVersion", ""),
        "architecture": info.get("Architecture", ""),
        "cpus": info.get("NCPU", 0),
        "memory": info.get("MemTotal", 0),
        "storage_driver": info.get("Driver", ""),
        "docker_root": info.get("DockerRootDir", ""),
        "hostname": info.get("Name", ""),
        "cgroup_version": info.get("CgroupVersion", ""),
    }
