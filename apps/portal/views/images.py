"""Image pages: the list (dangling marked, used by), detail, tag, remove, prune."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.containers.api.images import ImageViewSet
from apps.containers.api.jobs import ImageJobViewSet
from apps.containers.api.serializers.images import TagSerializer
from apps.containers.services import containers
from apps.containers.services import images as service

from ..forms import TagForm
from ..pages import may, page, require, show
from ..tables import image_users

logger = logging.getLogger("dockpilot.portal.views.images")
RULES = ImageViewSet.access_rules


@page
@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["list"])
    # "Used by" counts every container on the engine, seen or not: an image
    # cannot be removed from under any of them.
    users = image_users(containers.list_containers(env))
    rows = [
        {**image, "used_by": len(users.get(image["id"], []))}
        for image in service.list_images(env)
    ]
    query = request.GET.get("q", "").lower()
    if query:
        rows = [
            row
            for row in rows
            if query in row["short_id"]
            or any(query in f"{t['repository']}:{t['tag']}" for t in row["tags"])
        ]
    context = {
        "rows": rows,
        "q": request.GET.get("q", ""),
        "can_change": may(request, RULES["destroy"]),
        "can_pull": may(request, ImageJobViewSet.access_rules["pull"]),
    }
    return show(request, "portal/images/list.html", context)


@page
def image_detail(request: HttpRequest, ref: str) -> HttpResponse:
    env = require(request, RULES["retrieve"])
    form = TagForm(request.POST or None)
    if request.method == "POST":
        require(request, RULES["tag"])
        if form.is_valid():
            body = form.validate_with(TagSerializer, form.body())
            if body is not None:
                tagged = service.tag_image(env, ref, request=request, **body)
                messages.success(request, _("Tagged as %s.") % tagged["reference"])
                return redirect("portal:image", ref)
    document = service.inspect_image(env, ref)
    context = {
        "ref": ref,
        "image": document,
        "history": service.image_history(env, ref),
        "pretty": json.dumps(document, indent=2, sort_keys=True),
        "form": form,
        "can_tag": may(request, RULES["tag"]),
        "can_change": may(request, RULES["destroy"]),
    }
    return show(request, "portal/images/detail.html", context)


@page
@require_POST
def image_remove(request: HttpRequest, ref: str) -> HttpResponse:
    env = require(request, RULES["destroy"])
    force = request.POST.get("force") == "on"
    result = service.remove_image(env, ref, force=force, noprune=False, request=request)
    messages.success(
        request,
        _("Image '%(ref)s': %(tags)d tags removed, %(layers)d layers deleted.")
        % {
            "ref": ref,
            "tags": len(result["untagged"]),
            "layers": len(result["deleted"]),
        },
    )
    return redirect("portal:images")


@page
@require_POST
def image_prune(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["prune"])
    every = request.POST.get("all") == "on"
    result = service.prune_images(env, all_unused=every, labels=[], request=request)
    messages.success(
        request,
        _("Pruned %(count)d images, %(mb)d MB reclaimed.")
        % {
            "count": len(result["deleted"]),
            "mb": result["space_reclaimed"] // (1024 * 1024),
        },
    )
    return redirect("portal:images")
