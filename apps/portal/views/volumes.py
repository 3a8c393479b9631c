"""Volume pages: list, detail, create, remove, prune."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access
from apps.containers.api.serializers.volumes import VolumeCreateSerializer
from apps.containers.api.volumes import VolumeViewSet
from apps.containers.services import volumes as service

from ..forms import VolumeCreateForm
from ..pages import may, may_each, page, portal_user, require, show, target

logger = logging.getLogger("dockpilot.portal.views.volumes")
RULES = VolumeViewSet.access_rules
KIND = "volume"


@page
def volume_list(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["list"])
    form = VolumeCreateForm(request.POST or None)
    if request.method == "POST":
        require(request, RULES["create"])
        if form.is_valid():
            body = form.validate_with(VolumeCreateSerializer, form.body())
            if body is not None:
                created = service.create_volume(env, request=request, **body)
                messages.success(request, _("Volume '%s' created.") % created["name"])
                return redirect("portal:volumes")
    seen = access.filter_visible(
        portal_user(request), env, KIND, service.list_volumes(env), key="name"
    )
    verbs = may_each(request, KIND, [volume["name"] for volume in seen])
    context = {
        "rows": [{**volume, "verbs": verbs[volume["name"]]} for volume in seen],
        "form": form,
        "can_create": may(request, RULES["create"]),
        "can_prune": may(request, RULES["prune"]),
    }
    return show(request, "portal/volumes/list.html", context)


@page
@require_GET
def volume_detail(request: HttpRequest, name: str) -> HttpResponse:
    env = require(request, RULES["retrieve"])
    found = target(request, KIND, name, RULES["retrieve"])
    document = service.inspect_volume(env, found)
    context = {
        "volume": document,
        "pretty": json.dumps(document, indent=2, sort_keys=True),
        "verbs": may_each(request, KIND, [found])[found],
    }
    return show(request, "portal/volumes/detail.html", context)


@page
@require_POST
def volume_remove(request: HttpRequest, name: str) -> HttpResponse:
    env = require(request, RULES["list"])
    found = target(request, KIND, name, RULES["destroy"])
    service.remove_volume(env, found, force=False, request=request)
    messages.success(request, _("Volume '%s' removed.") % found)
    return redirect("portal:volumes")


@page
@require_POST
def volume_prune(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["prune"])
    result = service.prune_volumes(env, labels=[], request=request)
    messages.success(request, _("Pruned %d unused volumes.") % len(result["deleted"]))
    return redirect("portal:volumes")
