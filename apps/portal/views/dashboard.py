"""The dashboard: the engine, what runs on it, what changed lately."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse

from apps.accounts import access
from apps.audit.models import AuditLog
from apps.containers.services import containers, images, networks, system, volumes
from apps.jobs.permissions import visible_jobs

from ..pages import environment, page, portal_user, require, show
from ..tables import container_counts

logger = logging.getLogger("dockpilot.portal.views.dashboard")
RECENT_AUDIT = 8
RECENT_JOBS = 5


def _resources(request: HttpRequest) -> dict[str, Any]:
    # The same lists, filtered the same way, as the list pages and the API.
    user, env = portal_user(request), environment(request)
    seen_containers = access.filter_visible(
        user, env, "container", containers.list_containers(env)
    )
    image_list = images.list_images(env)
    seen_volumes = access.filter_visible(
        user, env, "volume", volumes.list_volumes(env), key="name"
    )
    seen_networks = access.filter_visible(
        user, env, "network", networks.list_networks(env)
    )
    return {
        "counts": container_counts(seen_containers),
        "images": {
            "total": len(image_list),
            "dangling": sum(1 for image in image_list if image["dangling"]),
            "size": sum(image["size"] for image in image_list),
        },
        "volumes": len(seen_volumes),
        "networks": len(seen_networks),
    }


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    env = require(request, "view")
    context: dict[str, Any] = {
        "facts": system.engine_facts(env),
        **_resources(request),
        # Jobs are seen as on the jobs page: one's own, admins every one.
        "recent_jobs": visible_jobs(portal_user(request)).order_by("-queued_at")[
            :RECENT_JOBS
        ],
    }
    if access.is_admin(request.user):
        context["recent_audit"] = AuditLog.objects.order_by("-timestamp")[:RECENT_AUDIT]
    return show(request, "portal/dashboard.html", context)
