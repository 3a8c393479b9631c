"""Login, logout, first-run set-up and the password page."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from rest_framework import exceptions

from apps.accounts import setup
from apps.accounts.forms import ThrottledLoginForm
from apps.accounts.models import User
from apps.accounts.services import auth as auth_service
from dockpilot.errors import PortalError

from ..forms import PasswordForm, SetupForm, strip_field
from ..pages import portal_user, show

logger = logging.getLogger("dockpilot.portal.views.auth")


class LoginView(auth_views.LoginView):
    """Django's login with the API's failure limit; audited by accounts.signals."""

    template_name = "portal/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["setup_needed"] = setup.setup_needed()
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule): a link cannot log anyone out."""


def _setup_error(form: SetupForm, exc: Exception) -> None:
    if isinstance(exc, exceptions.PermissionDenied):
        form.add_error("token", strip_field(str(exc.detail), "token"))
        return
    field = getattr(exc, "details", {}).get("field")
    message = str(getattr(exc, "detail", exc))
    if field in form.fields:
        form.add_error(field, strip_field(message, field))
    else:
        form.add_error(None, message)


@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest) -> HttpResponse:
    """Create the first admin with the setup token; refused once a user exists."""
    if not setup.setup_needed():
        messages.info(request, _("Set-up is done: log in."))
        return redirect("portal:login")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            auth_service.first_admin(
                request, data["token"], data["username"], data["password"]
            )
        except (PortalError, exceptions.APIException) as exc:
            _setup_error(form, exc)
        else:
            user = User.objects.get(username=data["username"])
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Welcome, %s: you are the admin.") % user.username
            )
            return redirect("portal:dashboard")
    return render(request, "portal/setup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    """Change one's own password; the session stays, API tokens stop."""
    if not request.user.is_authenticated:
        return auth_views.redirect_to_login(request.get_full_path())
    user = portal_user(request)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            auth_service.change_password(
                request, user, data["old_password"], data["new_password"]
            )
        except PortalError as exc:
            field = exc.details.get("field")
            target = field if field in form.fields else None
            form.add_error(target, strip_field(str(exc.detail), field or ""))
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Password changed."))
            return redirect("portal:dashboard")
    context = {"form": form, "forced": user.must_change_password}
    return show(request, "portal/password.html", context)
