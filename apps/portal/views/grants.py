"""The grants page, for admins: who may do what on which object.

Grants are made and taken back by ``apps.accounts.services.grants``, as
``POST /api/v1/grants/`` and ``DELETE /api/v1/grants/<id>/`` do (audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.api.management import find_team, find_user
from apps.accounts.api.serializers import GrantSerializer
from apps.accounts.services import grants as service
from dockpilot.errors import PortalError

from ..forms import GrantForm
from ..pages import admin_page, portal_user, show


def _grant(request: HttpRequest, body: dict[str, Any]) -> dict[str, Any]:
    actor = portal_user(request)
    target = service.find_target(
        actor, body["object_type"], body.get("environment"), body["object_id"]
    )
    return service.grant(
        request,
        actor,
        target,
        body["permission"],
        user=find_user(body["user"]) if "user" in body else None,
        team=find_team(body["team"]) if "team" in body else None,
    )


@admin_page
def grant_list(request: HttpRequest) -> HttpResponse:
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        body = form.validate_with(GrantSerializer, form.body())
        if body is not None:
            try:
                granted = _grant(request, body)
            except PortalError as exc:
                form.error_for(str(exc.details.get("field", "")), str(exc.detail))
            else:
                messages.success(
                    request,
                    _("Granted %(permission)s on %(object_type)s %(object_name)s.")
                    % granted,
                )
                return redirect("portal:grants")
    context = {"grants": service.list_grants(portal_user(request)), "form": form}
    status = 400 if form.errors else 200
    return show(request, "portal/users/grants.html", context, status=status)


@admin_page
@require_POST
def grant_revoke(request: HttpRequest, grant_id: str) -> HttpResponse:
    service.revoke(request, portal_user(request), grant_id)
    messages.success(request, _("Grant taken back."))
    return redirect("portal:grants")
