"""Environments: the engines a user may see, and picking the one pages show."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access

from ..pages import ENVIRONMENT_KEY, page, portal_user, show

logger = logging.getLogger("dockpilot.portal.views.environments")


@page
@require_GET
def environment_list(request: HttpRequest) -> HttpResponse:
    rows = access.visible_environments(portal_user(request)).order_by("name")
    return show(request, "portal/environments/list.html", {"rows": rows})


@page
@require_POST
def environment_pick(request: HttpRequest) -> HttpResponse:
    """Remember the environment the pages show; only one the user may see."""
    chosen = access.environment_for(
        portal_user(request), request.POST.get("environment")
    )
    request.session[ENVIRONMENT_KEY] = chosen.name
    messages.info(request, _("Showing environment '%s'.") % chosen.name)
    return redirect("portal:dashboard")
