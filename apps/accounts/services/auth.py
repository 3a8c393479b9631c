"""Set-up, logins, refreshes, logouts and password changes."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from apps.audit.models import Action, Outcome
from apps.audit.services import record
from dockpilot.errors import BadRequest, Conflict, PortalError

from .. import setup, throttles
from ..models import ApiToken, EndedSession, User

logger = logging.getLogger("dockpilot.accounts.services.auth")


class LoginThrottled(PortalError):
    status_code = 429
    default_code = "throttled"

    def __init__(self, wait: int) -> None:
        super().__init__(
            f"Too many failed logins; try again in {wait} seconds.",
            details={"retry_after": wait},
        )
        self.wait = wait


class InvalidCredentials(PortalError):
    """401 even on endpoints without authentication classes (DRF would say 403)."""

    status_code = 401
    default_code = "invalid_credentials"


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _tokens_for(user: User) -> dict[str, str]:
    # "sid" names the login session: it passes to every access token and
    # survives refresh rotation, so logout can end all of them at once.
    # "auth_time" lets a recent login stand in for the password.
    refresh = RefreshToken.for_user(user)
    refresh["sid"] = uuid.uuid4().hex
    refresh["auth_time"] = int(time.time())
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def end_session(user: User, sid: str | None) -> None:
    if sid:
        EndedSession.objects.get_or_create(sid=sid, defaults={"user": user})


def audit_own(user: User, action: Action, request: HttpRequest, **fields: Any) -> None:
    """The audit row of a user acting on their own account (login, logout...)."""
    record(
        action,
        request=request,
        actor=user,
        resource_type="user",
        resource_id=str(user.pk),
        resource_name=user.username,
        **fields,
    )


def audit_failed_login(
    request: HttpRequest, username: str, reason: str, **details: Any
) -> None:
    """The audit row of a refused login, through the API or a form."""
    record(
        Action.AUTH_LOGIN,
        request=request,
        resource_type="user",
        resource_name=username,
        outcome=Outcome.FAILURE,
        reason=reason,
        details=details,
    )


def login(request: HttpRequest, username: str, password: str) -> dict[str, str]:
    """Check credentials and return a JWT pair; every attempt is audited."""
    ip = _client_ip(request)
    wait = throttles.retry_after(ip, username)
    if wait:
        audit_failed_login(request, username, "throttled")
        raise LoginThrottled(wait)

    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        throttles.register_failure(ip, username)
        audit_failed_login(
            request, username, "wrong username or password, or inactive account"
        )
        raise InvalidCredentials(
            "Wrong username or password, or the account is deactivated."
        )

    throttles.clear_username(username)
    tokens = _tokens_for(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit_own(user, Action.AUTH_LOGIN, request)
    return tokens


def _refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidCredentials(f"refresh: {exc}", code="invalid_token") from exc


def _token_user(token: RefreshToken) -> User | None:
    user_id = token.payload.get("user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def refresh(request: HttpRequest, raw: str) -> dict[str, str]:
    """Rotate a refresh token: the old one is blacklisted, a new pair returned."""
    token = _refresh_token(raw)
    user = _token_user(token)
    if user is None or not user.is_active:
        raise InvalidCredentials(
            "The account of this token is deactivated or deleted.", code="invalid_token"
        )

    serializer = TokenRefreshSerializer(data={"refresh": raw})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise InvalidCredentials(f"refresh: {exc}", code="invalid_token") from exc
    audit_own(user, Action.AUTH_REFRESH, request)
    return dict(serializer.validated_data)


def logout(request: HttpRequest, user: User, raw: str) -> None:
    """End the session of ``raw``: its refresh and access tokens stop at once."""
    token = _refresh_token(raw)
    # simplejwt writes the user id claim as a string, whatever the pk type.
    if str(token.payload.get("user_id")) != str(user.pk):
        raise BadRequest(
            "refresh: this refresh token belongs to another user.",
            details={"field": "refresh"},
        )
    token.blacklist()
    end_session(user, token.payload.get("sid"))
    current = getattr(request, "auth", None)
    if current is not None and hasattr(current, "get"):
        end_session(user, current.get("sid"))
    audit_own(user, Action.AUTH_LOGOUT, request)


def revoke_all_refresh_tokens(user: User) -> int:
    outstanding = OutstandingToken.objects.filter(user=user).exclude(
        blacklistedtoken__isnull=False
    )
    count = 0
    for token in outstanding:
        BlacklistedToken.objects.get_or_create(token=token)
        count += 1
    return count


def revoke_all_api_tokens(user: User) -> int:
    """Revoke a user's personal tokens (password changed or reset)."""
    return ApiToken.objects.filter(owner=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def change_password(request: HttpRequest, user: User, old: str, new: str) -> None:
    """Set a new password; every token issued before stops working.

    Personal API tokens go too: whoever knew the old password may have
    made some, and a changed password is how a user shuts them out.
    """
    if not user.check_password(old):
        raise BadRequest(
            "old_password: the current password is wrong.",
            details={"field": "old_password"},
        )
    try:
        password_validation.validate_password(new, user)
    except DjangoValidationError as exc:
        raise BadRequest(
            "new_password: " + " ".join(exc.messages), details={"field": "new_password"}
        ) from exc

    with transaction.atomic():
        user.set_password(new)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        revoked = revoke_all_refresh_tokens(user)
        tokens_revoked = revoke_all_api_tokens(user)
        audit_own(
            user,
            Action.AUTH_PASSWORD_CHANGE,
            request,
            details={
                "sessions_ended": revoked,
                "personal_access_revoked": tokens_revoked,
            },
        )


def first_admin(
    request: HttpRequest, token: str, username: str, password: str, email: str = ""
) -> dict[str, str]:
    """Create the first admin with the one-time setup token from the server log."""
    with transaction.atomic():
        if not setup.setup_needed():
            raise Conflict(
                "Set-up is already done: an account exists. Log in instead.",
                code="setup_done",
            )
        if not setup.token_matches(token):
            raise exceptions.PermissionDenied(
                "token: wrong setup token; it is printed in the server log at start-up."
            )
        try:
            password_validation.validate_password(password, User(username=username))
        except DjangoValidationError as exc:
            raise BadRequest(
                "password: " + " ".join(exc.messages), details={"field": "password"}
            ) from exc
        user = setup.create_admin(username, password, email)
        setup.discard_setup_token()
        audit_own(user, Action.AUTH_SETUP, request)
    logger.info("first admin %r created through set-up", username)
    return _tokens_for(user)
