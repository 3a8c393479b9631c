"""Choosing the environment a request acts on."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import IntegrityError

from dockpilot.errors import NotFound

from .models import Environment

DEFAULT_NAME = "local"

# Every Docker request names an environment; looking it up is a query each
# time. Rows are cached per process for a few seconds and dropped whenever
# an Environment is saved or deleted here; another process's change shows
# within CACHE_SECONDS.
CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Environment]] = {}
_cache_lock = threading.Lock()


def forget_environments(*args: Any, **kwargs: Any) -> None:
    """Drop cached environments (a signal receiver, hence the arguments)."""
    with _cache_lock:
        _cache.clear()


def _cached(key: str, load: Any) -> Environment:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    environment = load()
    with _cache_lock:
        _cache[key] = (now + CACHE_SECONDS, environment)
    return environment


def cached_environment(value: str | None) -> Environment | None:
    """What ``resolve_environment(value)`` gives if it is cached, else None."""
    hit = _cache.get(f"value:{value}" if value else "default")
    if hit is None or hit[0] <= time.monotonic():
        return None
    return hit[1]


def default_environment() -> Environment:
    """The default environment, created on first use as this machine's engine."""
    return _cached("default", _load_default)


def _load_default() -> Environment:
    environment = Environment.objects.filter(is_default=True).first()
    if environment is not None:
        return environment
    try:
        environment, _ = Environment.objects.get_or_create(
            name=DEFAULT_NAME, defaults={"is_default": True}
        )
    except IntegrityError:
        environment = Environment.objects.get(is_default=True)
    return environment


def resolve_environment(value: str | None) -> Environment:
    """Find an environment by name or id; none given means the default one."""
    if not value:
        return default_environment()
    return _cached(f"value:{value}", lambda: _load(value))


def _load(value: str) -> Environment:
    lookup = {"pk": int(value)} if value.isdigit() else {"name": value}
    environment = Environment.objects.filter(**lookup).first()
    if environment is None:
        raise environment_missing(value)
    return environment


def environment_missing(value: str) -> NotFound:
    # Also said for an environment the user may not see (see accounts.access).
    return NotFound(
        f"environment: no environment '{value}' that you may use; list yours at "
        "/api/v1/environments/, or ask an admin for access to this one.",
        code="environment_not_found",
    )
