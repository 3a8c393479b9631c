"""How API requests prove who they are: personal tokens, JWTs, sessions.

Personal tokens and JWTs both come as ``Authorization: Bearer``; a personal
token starts with ``dpt_``, which no JWT does, so each class takes only its
own. Whatever the credential, the same limits then apply: a read-only
token cannot change anything, and an account whose password an admin reset
reaches only the endpoints that let it set a new one.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from . import authcache, tokens
from .models import ApiToken, User

# What an account that must change its password may still reach.
PASSWORD_CHANGE_ROUTES = ("auth-password", "auth-me", "auth-logout")


def _refused(message: str, code: str) -> Exception:
    # Imported here: DRF imports this module while dockpilot.errors loads.
    from .access import AccessDenied

    return AccessDenied(message, code=code)


def _route_name(request: Request) -> str:
    match = getattr(request._request, "resolver_match", None)
    return (match.url_name if match else "") or ""


def enforce_limits(request: Request, user: Any, token: ApiToken | None) -> None:
    """Refuse what this credential may not do, whatever the view allows."""
    if getattr(user, "must_change_password", False) and (
        _route_name(request) not in PASSWORD_CHANGE_ROUTES
    ):
        raise _refused(
            "An admin reset your password: set a new one at "
            "/api/v1/auth/password before anything else.",
            "password_change_required",
        )
    if token is not None and not token.can_write and request.method not in SAFE_METHODS:
        raise _refused(
            f"API token {token.prefix} has the read scope only; create a token "
            "with the read,write scope to change things.",
            "token_scope",
        )


def _bearer(request: Request) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return None
    return parts[1].decode("latin-1")


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer dpt_...``: a personal API token."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        raw = _bearer(request)
        if raw is None or not tokens.looks_like_token(raw):
            return None
        token = tokens.verify(raw)
        enforce_limits(request, token.owner, token)
        return token.owner, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class PortalJWTAuthentication(JWTAuthentication):
    """simplejwt's check, plus sessions ended by logout and the limits above.

    The checked token, the user row and the session's state come from
    ``authcache`` when they were looked up in the last few seconds (see
    there for the window); a kept token's expiry is checked at every use.
    """

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is None:
            return None
        user, validated = result
        sid = validated.get("sid")
        if sid and authcache.session_ended(str(sid)):
            raise AuthenticationFailed(
                "This session ended at logout; log in again.", code="session_ended"
            )
        enforce_limits(request, user, None)
        return result

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = authcache.cached_token(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
            except TokenError:
                pass  # expired since: the full check below says so
            else:
                return token  # type: ignore[no-any-return]
        token = super().get_validated_token(raw_token)
        authcache.remember_token(raw_token, token)
        return token

    def get_user(self, validated_token: Token) -> Any:
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        digest = str(validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM, ""))
        cached = authcache.cached_user(user_id, digest)
        if cached is not None:
            return cached
        since = authcache.generation()
        user = super().get_user(validated_token)  # every check of simplejwt
        if isinstance(user, User):
            authcache.remember_user(user_id, digest, user, since)
        return user


def known_bearer_user(authorization: bytes) -> User | None:
    """The user of a JWT in ``authorization`` if its every check passed lately.

    The answer ``PortalJWTAuthentication`` would give, taken from
    ``authcache`` alone: no query, no signature check. The user is the kept
    object, shared: the caller must not change it. None whenever
    anything is not known (or the account must first change its password):
    the caller then lets the full authentication decide.
    """
    parts = authorization.split()
    if len(parts) != 2 or parts[0] not in _HEADER_TYPES:
        return None
    raw = parts[1]
    if raw.startswith(tokens.PREFIX.encode()):
        return None  # a personal API token, never cached
    token = authcache.cached_token(raw)
    if token is None:
        return None
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        return None

    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    digest = str(token.get(jwt_settings.REVOKE_TOKEN_CLAIM, ""))
    user = authcache.cached_user(user_id, digest, shared=True)
    sid = token.get("sid")
    if user is None or (sid and not authcache.known_live(str(sid))):
        return None
    if not user.is_active or user.must_change_password:
        return None
    return user


_HEADER_TYPES = {kind.encode() for kind in jwt_settings.AUTH_HEADER_TYPES}


class PortalSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            enforce_limits(request, result[0], None)
        return result
