"""Removing secrets from audit details before they are stored."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|auth",
    re.IGNORECASE,
)
# Container environment variables, as the API ("env") and the SDK
# ("environment") name them. A plain string under "environment" is the
# portal environment's name, which is no secret.
_ENV_KEYS = {"env", "environment"}


def _scrub_env(value: Any) -> Any:
    # Environment values often hold passwords; keep the names, drop the values.
    if isinstance(value, dict):
        return dict.fromkeys(value, MASK)
    if isinstance(value, list):
        return [f"{str(item).split('=', 1)[0]}={MASK}" for item in value]
    return MASK


def scrub(value: Any) -> Any:
    """Return a copy of ``value`` with secret-looking fields masked."""
    if isinstance(value, dict):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            # Keys need not be strings: port maps use numbers.
            if str(key).lower() in _ENV_KEYS and not isinstance(item, str):
                clean[key] = _scrub_env(item)
            elif _SECRET_KEY.search(str(key)):
                clean[key] = MASK
            else:
                clean[key] = scrub(item)
        return clean
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        # JSON readers (and orjson, which renders the audit API) stop at 64
        # bits; a refused absurd number must not make the audit log unreadable.
        return str(value)
    return value
