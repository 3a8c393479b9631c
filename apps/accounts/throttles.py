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
        window = cache.get(key)
        if window and window["count"] >= limit:
            waits.append(int(window["until"] - now) + 1)
    waits = [w for w in waits if w > 0]
    return max(waits) if waits else None


def register_failure(ip: str | None, username: str) -> None:
    window_seconds = settings.LOGIN_FAILURE_WINDOW
    now = time.time()
    for key in _keys(ip, username):
        window = cache.get(key)
        if not window or window["until"] <= now:
            window = {"count": 0, "until": now + window_seconds}
        window["count"] += 1
        cache.set(key, window, timeout=int(window["until"] - now) + 1)


def clear_username(username: str) -> None:
    """A successful login forgives the username's failures (not the address's)."""
    cache.delete(_keys(None, username)[0])
