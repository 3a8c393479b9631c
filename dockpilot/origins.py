"""Which pages may open the portal's WebSockets: the portal's own.

A browser sends the session cookie with a WebSocket handshake from any
page, and cookies do not depend on the port: a page served on another port
of the same host (a container's published port on 127.0.0.1, say) would
otherwise open an admin's terminal with the admin's cookie. A host-name
check alone (Channels' ``AllowedHostsOriginValidator``) lets that through.

So the handshake's ``Origin`` must be the portal's own origin: the host
and port the ``Host`` header names (a missing port is the default one of
the origin's scheme), with a host in ``ALLOWED_HOSTS``, or one listed in
``CSRF_TRUSTED_ORIGINS`` (a portal behind a proxy that serves it under
another name). The scheme is not compared: one port serves one protocol,
and behind a proxy that ends TLS the page is https while the portal is
reached as plain ws. A handshake without an ``Origin`` is refused too;
scripts send the portal's origin.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger("dockpilot.origins")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _host_and_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    host, port = split_domain_port(netloc.lower())
    if not host:
        return None
    if not port:
        return host, _DEFAULT_PORTS[scheme]
    return (host, int(port)) if port.isdigit() else None


def same_origin(scope: dict[str, Any]) -> bool:
    """Whether the handshake comes from a page of the portal itself."""
    origin = _header(scope, b"origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return False
    if f"{parts.scheme}://{parts.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
        return True

    page = _host_and_port(parts.netloc, parts.scheme)
    host = _header(scope, b"host")
    served = _host_and_port(host, parts.scheme) if host else None
    if page is None or served is None or page != served:
        return False
    return validate_host(page[0], settings.ALLOWED_HOSTS)


class SameOriginValidator:
    """Refuse (HTTP 403 at the handshake) a WebSocket from another origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not same_origin(scope):
            logger.warning(
                "refused a WebSocket to %s from origin %r",
                scope.get("path", ""),
                _header(scope, b"origin"),
            )
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
