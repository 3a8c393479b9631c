"""Personal API tokens: creating and revoking them."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied

from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import BadRequest, NotFound

from .. import tokens
from ..models import ApiToken, Scope, User

logger = logging.getLogger("dockpilot.accounts.services.tokens")

MAX_LIFETIME = timedelta(days=365)
# A login this recent stands in for the password when creating a token.
FRESH_LOGIN_SECONDS = 300


def _fresh_login(credential: Any) -> bool:
    auth_time = credential.get("auth_time") if hasattr(credential, "get") else None
    if not isinstance(auth_time, int):
        return False
    return time.time() - auth_time < FRESH_LOGIN_SECONDS


def _confirm_identity(request: Any, user: User, password: str | None) -> None:
    credential = getattr(request, "auth", None)
    if isinstance(credential, ApiToken):
        raise PermissionDenied(
            "A personal API token cannot create tokens; log in with your password."
        )
    if password:
        if not user.check_password(password):
            raise BadRequest(
                "password: the password is wrong.", details={"field": "password"}
            )
        return
    if not _fresh_login(credential):
        raise BadRequest(
            "password: give your password to create a token (or log in again "
            "and create it within five minutes).",
            details={"field": "password"},
        )


def _check_expiry(expires_at: datetime) -> None:
    now = timezone.now()
    if expires_at <= now:
        raise BadRequest(
            "expires_at: the expiry is in the past; give a date within a year.",
            details={"field": "expires_at"},
        )
    if expires_at > now + MAX_LIFETIME:
        raise BadRequest(
            "expires_at: a token may live one year at most; give an earlier date.",
            details={"field": "expires_at"},
        )


def create_token(
    request: HttpRequest,
    user: User,
    *,
    name: str,
    scopes: str,
    expires_at: datetime,
    password: str | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; the secret is returned here and never again."""
    with audited(
        Action.TOKEN_CREATE,
        request=request,
        resource_type="api_token",
        resource_name=name,
        details={"scopes": scopes, "expires_at": expires_at.isoformat()},
    ) as target:
        _confirm_identity(request, user, password)
        _check_expiry(expires_at)
        raw, prefix = tokens.generate()
        token = ApiToken.objects.create(
            owner=user,
            name=name,
            prefix=prefix,
            secret_hash=tokens.digest(raw),
            scopes=Scope(scopes),
            expires_at=expires_at,
        )
        target.resource_id = str(token.pk)
        target.details["prefix"] = prefix
    logger.info("api token %s created for %s", prefix, user.username)
    return token, raw


def revoke_token(request: HttpRequest, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it fails on its next use."""
    with audited(
        Action.TOKEN_REVOKE,
        request=request,
        resource_type="api_token",
        resource_id=str(token_id),
    ) as target:
        token = ApiToken.objects.filter(pk=token_id, owner=user).first()
        if token is None:
            raise NotFound(f"api token {token_id}: you have no such token.")
        target.resource_name = token.name
        target.details["prefix"] = token.prefix
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    logger.info("api token %s revoked", token.prefix)
    return token
