"""Reading the time parameters of log requests (since, until)."""

from __future__ import annotations

import re
import time

from django.utils.dateparse import parse_datetime

from dockpilot.errors import BadRequest

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def to_unix(name: str, raw: str | None) -> int | None:
    """Unix seconds from a number, an ISO 8601 time or a duration ago ("15m")."""
    if raw is None or raw == "":
        return None
    raw = raw.strip()
    if raw.isdigit() and len(raw) <= 12:  # unix seconds, up to year 33658
        return int(raw)
    if (match := _DURATION.match(raw)) and len(match.group(1)) <= 9:
        return int(time.time()) - int(match.group(1)) * _UNITS[match.group(2)]
    moment = parse_datetime(raw)
    if moment is None:
        raise BadRequest(
            f"{name}: '{raw}' is not a time; give unix seconds, an ISO 8601 time "
            "or a duration such as 15m, 2h or 1d.",
            details={"field": name},
        )
    if moment.tzinfo is None:
        raise BadRequest(
            f"{name}: add a time zone, for example 'Z' for UTC.",
            details={"field": name},
        )
    return int(moment.timestamp())
