"""Who is on the other end of a WebSocket.

A browser on a portal page sends its session cookie. A script or a page
holding a JWT (or, through the same REST authentication classes, a personal
API token) offers it as a subprotocol, ``bearer.<token>`` beside
``dockpilot``, or sends ``{"type": "auth", "token": ...}`` as its first
message (``first_message_user``). Tokens in the query string are refused:
proxies and access logs keep URLs. No token is ever logged.

This middleware only fills ``scope["user"]``; the consumer decides, and
closes a connection that stays anonymous with ``CLOSE_UNAUTHENTICATED``.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .models import User

logger = logging.getLogger("dockpilot.accounts.ws_auth")

SUBPROTOCOL = "dockpilot"
BEARER_PREFIX = "bearer."

# Close codes: 4000 + the HTTP status that the REST API would answer.
CLOSE_UNAUTHENTICATED = 4401


def authenticate_token(raw: str, method: str = "GET") -> User | None:
    """The active user a bearer token belongs to, by the REST API's own rules.

    Every configured REST authentication class except the session one gets
    the token as an ``Authorization: Bearer`` header, so JWTs and whatever
    token kinds the API accepts are accepted here, and refused alike.
    """
    if not raw:
        return None
    http = HttpRequest()
    # A stream that only reads is checked as a GET; a terminal as a POST,
    # so that a read-scope API token cannot open one.
    http.method = method
    http.META["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    request = Request(http)
    classes: list[type[BaseAuthentication]] = list(
        api_settings.DEFAULT_AUTHENTICATION_CLASSES  # type: ignore[arg-type]
    )
    for auth_class in classes:
        if issubclass(auth_class, SessionAuthentication):
            continue
        try:
            result = auth_class().authenticate(request)
        except exceptions.APIException:
            # Refused (bad token, ended session, limits): never let one
            # class's refusal end the handshake with an error page.
            continue
        if result is not None and isinstance(result[0], User) and result[0].is_active:
            return result[0]
    return None


def offered_token(scope: dict[str, Any]) -> str | None:
    for protocol in scope.get("subprotocols") or []:
        if protocol.startswith(BEARER_PREFIX):
            return str(protocol[len(BEARER_PREFIX) :])
    return None


class TokenAuthMiddleware(BaseMiddleware):
    """Authenticate a token offered in ``Sec-WebSocket-Protocol``.

    A session found by the cookie wins; an offered token that fails marks
    the scope, so the consumer refuses at once instead of waiting.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        token = offered_token(scope)
        user = scope.get("user")
        if token is not None and not (user and user.is_authenticated):
            found = await database_sync_to_async(authenticate_token)(token)
            scope["user"] = found or AnonymousUser()
            scope["auth_failed"] = found is None
        return await super().__call__(scope, receive, send)


def WebSocketAuthMiddlewareStack(inner: Any) -> Any:
    """Session cookie first, then a token offered as a subprotocol."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


async def first_message_user(message: Any) -> User | None:
    """The user of a ``{"type": "auth", "token": ...}`` first message."""
    if not isinstance(message, dict) or message.get("type") != "auth":
        return None
    token = message.get("token")
    if not isinstance(token, str):
        return None
    return await database_sync_to_async(authenticate_token)(token)


def credential_still_valid(
    scope: dict[str, Any], token: str | None, method: str
) -> bool:
    """Whether the credential a socket opened with would still be accepted.

    A token is authenticated again (an ended session, a revoked API token or
    a changed password fails); a session cookie must still name a live
    session for the same password.
    """
    if token:
        return authenticate_token(token, method) is not None
    session = scope.get("session")
    user = scope.get("user")
    if session is None or user is None or not session.session_key:
        return False
    if not session.exists(session.session_key):
        return False
    fresh = User.objects.filter(pk=user.pk).first()
    stored = session.get(HASH_SESSION_KEY, "")
    return fresh is not None and constant_time_compare(
        stored, fresh.get_session_auth_hash()
    )
