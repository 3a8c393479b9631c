"""Counting failed logins per client address and per username.

Only failures count, so a user who types the password right is never slowed
down by someone else's guesses from another address; an attacker spraying
one username from many addresses is still stopped by the username counter.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def _keys(ip: str | None, username: str) -> list[str]:
    keys = [f"login-fail:user:{username.strip().lower()}"]
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    return keys


def retry_after(ip: str | None, username: str) -> int | None:
    """Seconds until another attempt is allowed, or None when it is allowed now."""
    limit = settings.LOGIN_FAILURE_LIMIT
    now = time.time()
    waits = []
    for key in _keys(ip, username):
        count = cache.get(key) or 0
        until = cache.get(f"{key}:until") or 0
        if count >= limit and until > now:
            waits.append(int(until - now) + 1)
    return max(waits) if waits else None


def register_failure(ip: str | None, username: str) -> None:
    """Count one failure; the window starts at the first failure it holds.

    ``add`` and ``incr`` are atomic in every cache backend, so guesses sent
    in parallel cannot slip past the limit between a read and a write.
    """
    window = settings.LOGIN_FAILURE_WINDOW
    for key in _keys(ip, username):
        if cache.add(f"{key}:until", time.time() + window, timeout=window):
            cache.set(key, 0, timeout=window)
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start a new window
            cache.set(key, 1, timeout=window)


def clear_username(username: str) -> None:
    """A successful login forgives the username's failures (not the address's)."""
    key = _keys(None, username)[0]
    cache.delete_many([key, f"{key}:until"])
