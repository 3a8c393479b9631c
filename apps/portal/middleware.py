"""The Content-Security-Policy of the portal's pages.

Pages load only our own scripts and styles (no inline ones, no eval), so
an injected ``<script>`` or ``style`` attribute does nothing. The API docs
and the Django admin bring inline code of their own and keep their
defaults; the policy goes on every page of the portal's URL namespace.

One exception, for one page: xterm.js writes its cell sizes and colours
into ``<style>`` elements it creates. The terminal page asks for a style
nonce (``style_nonce``); the policy then allows style elements that carry
it, which our terminal script sets on the elements xterm.js creates. An
injected ``<style>`` cannot know the nonce, which is new on every response.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

NONCE_ATTRIBUTE = "csp_style_nonce"

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


def style_nonce(request: HttpRequest) -> str:
    """A nonce that lets this response's scripts add ``<style>`` elements."""
    nonce = getattr(request, NONCE_ATTRIBUTE, None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        setattr(request, NONCE_ATTRIBUTE, nonce)
    return str(nonce)


def policy_for(request: HttpRequest) -> str:
    nonce = getattr(request, NONCE_ATTRIBUTE, None)
    if nonce is None:
        return POLICY
    return POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")


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
            response["Content-Security-Policy"] = policy_for(request)
            response.setdefault("Referrer-Policy", "same-origin")
        return response
