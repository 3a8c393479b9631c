"""User and team pages, for admins, as the admin-only REST routes are.

Each change goes through ``apps.accounts.services.users`` (audited with
before and after), checked first by the REST serializers.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.api.management import find_team, find_user
from apps.accounts.api.serializers import (
    PasswordResetSerializer,
    TeamSerializer,
    UserCreateSerializer,
    UserUpdateSerializer,
)
from apps.accounts.models import Team, User
from apps.accounts.services import users as service
from dockpilot.errors import PortalError

from ..forms import (
    PasswordResetForm,
    PortalForm,
    TeamForm,
    UserCreateForm,
    UserUpdateForm,
)
from ..pages import admin_page, portal_user, show

logger = logging.getLogger("dockpilot.portal.views.users")


def _save(form: PortalForm, serializer: type, change: object) -> bool:
    """Validate a posted form with the API's serializer and run ``change``.

    False when nothing was posted or it was refused; errors go in place.
    """
    if not (form.is_bound and form.is_valid()):
        return False
    body = form.validate_with(serializer, form.body())
    if body is None:
        return False
    try:
        change(body)  # type: ignore[operator]
    except PortalError as exc:
        form.error_for(str(exc.details.get("field", "")), str(exc.detail))
        return False
    return True


def _usernames() -> list[str]:
    return list(User.objects.order_by("username").values_list("username", flat=True))


@admin_page
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if _save(
        form, UserCreateSerializer, lambda body: service.create_user(request, body)
    ):
        name = form.cleaned_data["username"]
        messages.success(request, _("User '%s' created.") % name)
        return redirect("portal:users")
    context = {"users": User.objects.order_by("username"), "form": form}
    status = 400 if form.errors else 200
    return show(request, "portal/users/list.html", context, status=status)


@admin_page
def user_detail(request: HttpRequest, ident: str) -> HttpResponse:
    user = find_user(ident)
    initial = {"email": user.email, "role": user.role, "is_active": user.is_active}
    posted = request.POST if request.POST.get("form") == "update" else None
    form = UserUpdateForm(posted, initial=initial)
    reset = PasswordResetForm(
        request.POST if request.POST.get("form") == "reset" else None
    )
    if _save(
        form,
        UserUpdateSerializer,
        lambda body: service.update_user(request, user, body),
    ):
        messages.success(request, _("User '%s' updated.") % user.username)
        return redirect("portal:user", user.pk)
    if _save(
        reset,
        PasswordResetSerializer,
        lambda body: service.reset_password(request, user, body["password"]),
    ):
        messages.success(
            request,
            _("Password of '%s' reset: every session and token of theirs ended.")
            % user.username,
        )
        return redirect("portal:user", user.pk)
    context = {
        "subject": user,
        "form": form,
        "reset": reset,
        "teams": Team.objects.filter(user=user).order_by("name"),
        "is_self": user.pk == portal_user(request).pk,
    }
    status = 400 if form.errors or reset.errors else 200
    return show(request, "portal/users/detail.html", context, status=status)


@admin_page
@require_POST
def user_delete(request: HttpRequest, ident: str) -> HttpResponse:
    user = find_user(ident)
    service.delete_user(request, portal_user(request), user)
    messages.success(request, _("User '%s' deleted.") % user.username)
    return redirect("portal:users")


@admin_page
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None, usernames=_usernames())
    if _save(form, TeamSerializer, lambda b: service.create_team(request, b)):
        messages.success(request, _("Team '%s' created.") % form.cleaned_data["name"])
        return redirect("portal:teams")
    context = {
        "teams": Team.objects.order_by("name").prefetch_related("user_set"),
        "form": form,
    }
    status = 400 if form.errors else 200
    return show(request, "portal/users/teams.html", context, status=status)


@admin_page
def team_detail(request: HttpRequest, ident: int) -> HttpResponse:
    team = find_team(str(ident))
    initial = {
        "name": team.name,
        "description": team.description,
        "members": list(team.user_set.values_list("username", flat=True)),
    }
    form = TeamForm(request.POST or None, initial=initial, usernames=_usernames())
    if _save(form, TeamSerializer, lambda b: service.update_team(request, team, b)):
        messages.success(request, _("Team '%s' saved.") % team.name)
        return redirect("portal:team", team.pk)
    status = 400 if form.errors else 200
    context = {"team": team, "form": form}
    return show(request, "portal/users/team.html", context, status=status)


@admin_page
@require_POST
def team_delete(request: HttpRequest, ident: int) -> HttpResponse:
    team = find_team(str(ident))
    service.delete_team(request, team)
    messages.success(request, _("Team '%s' deleted.") % team.name)
    return redirect("portal:teams")
