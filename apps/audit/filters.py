"""Filtering the audit log by query parameters."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dockpilot.errors import BadRequest

from .models import Action, AuditLog, Outcome


def _time(name: str, raw: str) -> datetime:
    try:
        value = parse_datetime(raw)
    except ValueError:
        # Well-formed but impossible, such as 2026-02-30T10:00:00Z.
        value = None
    if value is None:
        raise BadRequest(
            f"{name}: '{raw}' is not a date and time; use ISO 8601 such as "
            "2026-01-31T12:00:00Z.",
            details={"field": name},
        )
    # A time without an offset means the server's time zone (UTC by default).
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def filter_audit(
    queryset: QuerySet[AuditLog], params: dict[str, str]
) -> QuerySet[AuditLog]:
    """Apply actor, action, resource, outcome and time range filters."""
    if actor := params.get("actor"):
        queryset = queryset.filter(actor_username=actor)
    if action := params.get("action"):
        if action.endswith(".*"):
            queryset = queryset.filter(action__startswith=action[:-1])
        elif action in Action.values:
            queryset = queryset.filter(action=action)
        else:
            raise BadRequest(
                f"action: unknown action '{action}'.",
                details={"field": "action", "choices": Action.values},
            )
    if resource_type := params.get("resource_type"):
        queryset = queryset.filter(resource_type=resource_type)
    if resource_id := params.get("resource_id"):
        queryset = queryset.filter(resource_id=resource_id)
    if outcome := params.get("outcome"):
        if outcome not in Outcome.values:
            raise BadRequest(
                "outcome: use success or failure.", details={"field": "outcome"}
            )
        queryset = queryset.filter(outcome=outcome)
    if since := params.get("since"):
        queryset = queryset.filter(timestamp__gte=_time("since", since))
    if until := params.get("until"):
        queryset = queryset.filter(timestamp__lt=_time("until", until))
    return queryset
