"""``GET /health``: is the portal able to do its work right now?"""

from __future__ import annotations

import shutil
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.containers.engine import engine_for, translate_errors
from apps.containers.environments import default_environment
from dockpilot.errors import PortalError


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc)}


def _engine() -> dict[str, Any]:
    try:
        environment = default_environment()
        engine = engine_for(environment)
        started = time.monotonic()
        with translate_errors(engine):
            version = engine.version()
        return {
            "ok": True,
            "environment": environment.name,
            "endpoint": engine.endpoint,
            "version": version.get("Version"),
            "api_version": version.get("ApiVersion"),
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        }
    except PortalError as exc:
        return {"ok": False, "error": str(exc.detail)}
    except DatabaseError as exc:
        return {"ok": False, "error": f"database: {exc}"}


def _disk() -> dict[str, Any]:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // (1024 * 1024)
    ok = free_mb >= settings.HEALTH_MIN_FREE_DISK_MB
    result: dict[str, Any] = {
        "ok": ok,
        "free_mb": free_mb,
        "total_mb": usage.total // (1024 * 1024),
    }
    if not ok:
        result["error"] = (
            f"only {free_mb} MiB free in the data directory; "
            f"at least {settings.HEALTH_MIN_FREE_DISK_MB} MiB needed"
        )
    return result


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Unauthenticated: reports database, engine and disk; 503 when any fails."""
    checks = {"database": _database(), "engine": _engine(), "disk": _disk()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )
