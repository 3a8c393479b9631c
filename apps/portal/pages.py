"""What every page shares: login, the environment, access checks, errors.

Pages ask ``apps.accounts.access`` exactly as the REST views do, with the
verbs of the REST view's ``access_rules``: a page and its API route cannot
disagree about who may do what. Errors become pages, never a 500: an
object out of reach is a 404 page, a refused action a message at the top
of the page it came from, an unreachable engine a 503 page with a banner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.accounts import access
from apps.accounts.models import User
from apps.containers.models import Environment
from dockpilot.errors import EngineUnavailable, NotFound, PortalError

from .strings import JS_STRINGS

logger = logging.getLogger("dockpilot.portal.pages")

ENVIRONMENT_KEY = "portal_environment"
View = Callable[..., HttpResponseBase]


def portal_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - @page let only users in
    return user


def environment(request: HttpRequest) -> Environment:
    """The environment a page is about: ``?environment=``, the one picked, or
    the default. A picked one that went out of reach falls back to the default.
    """
    cached = getattr(request, "_portal_environment", None)
    if cached is not None:
        return cached
    user = portal_user(request)
    asked = request.GET.get("environment")
    picked = request.session.get(ENVIRONMENT_KEY)
    try:
        chosen = access.environment_for(user, asked or picked)
    except NotFound:
        if asked or not picked:
            raise
        request.session.pop(ENVIRONMENT_KEY, None)
        chosen = access.environment_for(user, None)
    request._portal_environment = chosen  # type: ignore[attr-defined]
    return chosen


def require(request: HttpRequest, verb: str) -> Environment:
    """The page's environment, if the user may ``verb`` in it (else 404/403)."""
    env = environment(request)
    access.require_environment(portal_user(request), env, verb)
    return env


def target(request: HttpRequest, kind: str, ident: str, verb: str) -> str:
    """The engine id of the resource a page names, if the user may ``verb`` it."""
    return access.check(portal_user(request), environment(request), kind, ident, verb)


def may(request: HttpRequest, verb: str) -> bool:
    """Whether the user may ``verb`` in the page's environment (to show buttons)."""
    user = portal_user(request)
    return verb in access.held(user, environment(request)) and access.role_allows(
        user, verb
    )


def may_each(request: HttpRequest, kind: str, ids: list[str]) -> dict[str, set[str]]:
    """The verbs the user may use on each listed resource, for its buttons.

    One ownership query for the whole list; the role caps what a grant gives.
    """
    user = portal_user(request)
    env = environment(request)
    if access.is_admin(user):
        return {ident: set(access.VERBS) for ident in ids}
    rows = {
        row.engine_id: row
        for row in env.ownerships.filter(kind=kind, engine_id__in=ids)
    }
    return {
        ident: {
            verb
            for verb in (access.held(user, rows[ident]) if ident in rows else set())
            if access.role_allows(user, verb)
        }
        for ident in ids
    }


def next_url(request: HttpRequest, default: str) -> str:
    """Where a form sends the user back to: its ``next`` field, if it is ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def show(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a page with what the layout needs (navigation, environments)."""
    user = portal_user(request)
    layout: dict[str, Any] = {
        "portal_user": user,
        "is_admin": access.is_admin(user),
        "environments": list(access.visible_environments(user)),
        "js_strings": JS_STRINGS,
    }
    try:
        layout["environment"] = environment(request)
    except PortalError:
        layout["environment"] = None
    return render(request, template, {**layout, **(context or {})}, status=status)


def error_page(request: HttpRequest, exc: Exception, status: int) -> HttpResponse:
    message = str(getattr(exc, "detail", "") or exc)
    context = {
        "status": status,
        "message": message,
        "engine_down": isinstance(exc, EngineUnavailable),
    }
    return show(request, "portal/error.html", context, status=status)


def _came_from(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("portal:dashboard")


def _refused(request: HttpRequest, exc: PortalError) -> HttpResponse:
    # A refused change goes back to the page it came from, the reason on top
    # (never to the POST-only URL of the action itself).
    messages.error(request, str(exc.detail))
    return HttpResponseRedirect(next_url(request, _came_from(request)))


def _answer_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, NotFound | exceptions.NotFound):
        return error_page(request, exc, 404)
    if isinstance(exc, access.AccessDenied | exceptions.PermissionDenied):
        return error_page(request, exc, 403)
    if isinstance(exc, EngineUnavailable):
        logger.warning("engine unavailable for %s: %s", request.path, exc)
        return error_page(request, exc, 503)
    if isinstance(exc, PortalError) and request.method == "POST":
        return _refused(request, exc)
    status = getattr(exc, "status_code", 400)
    return error_page(request, exc, status)


def page(view: View) -> View:
    """A page for logged-in users; portal errors become pages or messages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if getattr(user, "must_change_password", False):
            # An admin reset the password: only the password page until then.
            return redirect("portal:password")
        try:
            return view(request, *args, **kwargs)
        except (PortalError, exceptions.APIException) as exc:
            return _answer_error(request, exc)

    return wrapper


def admin_page(view: View) -> View:
    """A page for admins only, as the admin-only API routes are."""

    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not access.is_admin(request.user):
            raise access.AccessDenied(_("Only admins may see this page."))
        return view(request, *args, **kwargs)

    return page(inner)
