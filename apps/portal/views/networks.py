"""Network pages: list, detail (members), create, remove, prune, connect."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access
from apps.containers.api.networks import NetworkViewSet
from apps.containers.api.serializers.networks import (
    ConnectSerializer,
    NetworkCreateSerializer,
)
from apps.containers.services import networks as service

from ..forms import ConnectForm, NetworkCreateForm
from ..pages import may, may_each, page, portal_user, require, show, target

logger = logging.getLogger("dockpilot.portal.views.networks")
RULES = NetworkViewSet.access_rules
KIND = "network"


@page
def network_list(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["list"])
    form = NetworkCreateForm(request.POST or None)
    if request.method == "POST":
        require(request, RULES["create"])
        if form.is_valid():
            body = form.validate_with(NetworkCreateSerializer, form.body())
            if body is not None:
                created = service.create_network(env, body, request=request)
                messages.success(request, _("Network '%s' created.") % created["name"])
                return redirect("portal:networks")
    seen = access.filter_visible(
        portal_user(request), env, KIND, service.list_networks(env)
    )
    verbs = may_each(request, KIND, [network["id"] for network in seen])
    context = {
        "rows": [{**network, "verbs": verbs[network["id"]]} for network in seen],
        "form": form,
        "can_create": may(request, RULES["create"]),
        "can_prune": may(request, RULES["prune"]),
    }
    return show(request, "portal/networks/list.html", context)


def _members(request: HttpRequest, document: dict[str, Any]) -> list[dict[str, Any]]:
    # A network's members are containers: only those the user sees, as the API.
    attached = document.get("attached_containers") or []
    seen = access.visible(
        portal_user(request),
        require(request, "view"),
        "container",
        [entry["id"] for entry in attached],
    )
    return [entry for entry in attached if entry["id"] in seen]


@page
@require_GET
def network_detail(request: HttpRequest, ident: str) -> HttpResponse:
    env = require(request, RULES["retrieve"])
    found = target(request, KIND, ident, RULES["retrieve"])
    document = service.inspect_network(env, found)
    members = _members(request, document)
    document.pop("Containers", None)
    document.pop("attached_containers", None)
    context = {
        "network": document,
        "members": members,
        "pretty": json.dumps(document, indent=2, sort_keys=True),
        "verbs": may_each(request, KIND, [found])[found],
        "form": ConnectForm(),
    }
    return show(request, "portal/networks/detail.html", context)


@page
@require_POST
def network_connect(request: HttpRequest, ident: str, how: str) -> HttpResponse:
    env = require(request, RULES["list"])
    found = target(request, KIND, ident, RULES[how])
    form = ConnectForm(request.POST)
    body = (
        form.validate_with(ConnectSerializer, form.body()) if form.is_valid() else None
    )
    if body is None:
        messages.error(request, _("Give the name or id of a container."))
        return redirect("portal:network", ident)
    if how == "connect":
        service.connect_container(env, found, request=request, **body)
    else:
        service.disconnect_container(env, found, request=request, **body)
    messages.success(
        request,
        (
            _("Container '%s' connected.")
            if how == "connect"
            else _("Container '%s' disconnected.")
        )
        % body["container"],
    )
    return redirect("portal:network", ident)


@page
@require_POST
def network_remove(request: HttpRequest, ident: str) -> HttpResponse:
    env = require(request, RULES["list"])
    found = target(request, KIND, ident, RULES["destroy"])
    service.remove_network(env, found, request=request)
    messages.success(request, _("Network '%s' removed.") % ident)
    return redirect("portal:networks")


@page
@require_POST
def network_prune(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["prune"])
    result = service.prune_networks(env, labels=[], request=request)
    messages.success(request, _("Pruned %d unused networks.") % len(result["deleted"]))
    return redirect("portal:networks")
