"""Audit and throttle logins made through Django's own forms (the admin).

API logins are audited by ``services.login``; these receivers cover the
session logins of the admin site, which do not pass through it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver
from django.http import HttpRequest

from apps.audit.models import Action

from . import throttles
from .services.auth import audit_failed_login, audit_own


def _is_session_login(request: HttpRequest | None) -> bool:
    return request is not None and not request.path.startswith("/api/")


@receiver(user_logged_in)
def audit_session_login(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    if _is_session_login(request):
        throttles.clear_username(user.username)
        audit_own(
            user,
            Action.AUTH_LOGIN,
            request,
            details={"via": "session"},
        )


@receiver(user_login_failed)
def audit_session_login_failure(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    if _is_session_login(request):
        assert request is not None  # noqa: S101 - checked above
        username = str(credentials.get("username", ""))
        throttles.register_failure(request.META.get("REMOTE_ADDR"), username)
        audit_failed_login(
            request, username, "wrong username or password", via="session"
        )


@receiver(user_logged_out)
def audit_session_logout(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    if _is_session_login(request) and user is not None:
        audit_own(
            user,
            Action.AUTH_LOGOUT,
            request,
            details={"via": "session"},
        )
