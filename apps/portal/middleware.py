"""The Content-Security-Policy of the portal's pages.

Pages load only our own scripts and styles (no inline ones, no eval), so
an injected ``<script>`` or ``style`` attribute does nothing. The API docs
and the Django admin bring inline code of their own and keep their
defaults; the policy goes on every page of the portal's URL namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        # WebSockets of the same host (live logs, stats, events).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
NAMESPACE = "portal"


def _applies(request: HttpRequest, response: HttpResponse) -> bool:
    match = getattr(request, "resolver_match", None)
    in_portal = match is not None and NAMESPACE in match.namespaces
    return in_portal and "Content-Security-Policy" not in response


class ContentSecurityPolicyMiddleware:
    """Add the policy to portal responses; sync and async capable."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return self._apply(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._apply(request, await self.get_response(request))

    @staticmethod
    def _apply(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if _applies(request, response):
            response["Content-Security-Policy"] = POLICY
            response.setdefault("Referrer-Policy", "same-origin")
        return response
