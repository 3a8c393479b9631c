"""Template filters of the pages."""

from __future__ import annotations

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def when(value: str | None) -> str:
    """An engine's ISO time (2026-01-31T12:00:00.123Z) as 2026-01-31 12:00."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)[:16]
    return moment.strftime("%Y-%m-%d %H:%M")
