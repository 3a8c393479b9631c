"""The one function that writes audit rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from dockpilot.middleware import current_request_id

from .models import Action, AuditLog, Outcome
from .scrub import scrub

logger = logging.getLogger("dockpilot.audit.services")


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: a forwarded-for header is the client's to forge. A
    # proxy deployment sets the address through the server's proxy support.
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: Action | str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    resource_type: str = "",
    resource_id: str = "",
    resource_name: str = "",
    outcome: Outcome = Outcome.SUCCESS,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit row; ``request`` supplies actor, IP and user agent."""
    action = Action(action)
    http_request = getattr(request, "_request", request)
    if actor is None and http_request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None

    entry = AuditLog.objects.create(
        actor=actor,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id)[:128],
        resource_name=str(resource_name)[:255],
        outcome=outcome,
        reason=reason[:2000],
        details=scrub(details or {}),
        ip=_client_ip(http_request),
        user_agent=(http_request.headers.get("User-Agent", "") if http_request else "")[
            :512
        ],
        request_id=current_request_id(),
    )

    if http_request is not None:
        http_request.audited = True  # type: ignore[union-attr]
    log = logger.info if outcome == Outcome.SUCCESS else logger.warning
    log(
        "%s %s %s/%s %s",
        entry.actor_username or "-",
        action,
        resource_type,
        resource_id,
        outcome,
    )
    return entry


@dataclass
class AuditTarget:
    """What an audited block acted on; the block may fill in what it learns."""

    resource_id: str = ""
    resource_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(
    action: Action | str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    resource_type: str = "",
    resource_id: str = "",
    resource_name: str = "",
    details: dict[str, Any] | None = None,
) -> Iterator[AuditTarget]:
    """Audit the enclosed change: success when it ends, failure when it raises."""
    target = AuditTarget(resource_id, resource_name, dict(details or {}))
    try:
        yield target
    except Exception as exc:
        reason = str(getattr(exc, "detail", "") or exc) or exc.__class__.__name__
        record(
            action,
            request=request,
            actor=actor,
            resource_type=resource_type,
            resource_id=target.resource_id,
            resource_name=target.resource_name,
            outcome=Outcome.FAILURE,
            reason=reason,
            details=target.details,
        )
        raise
    record(
        action,
        request=request,
        actor=actor,
        resource_type=resource_type,
        resource_id=target.resource_id,
        resource_name=target.resource_name,
        details=target.details,
    )
