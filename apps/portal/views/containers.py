"""Container pages: the list, bulk actions, detail, inspect, logs, create."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers

from apps.accounts import access
from apps.compose.services.masking import hide_in_list
from apps.containers.api.containers import ContainerViewSet
from apps.containers.api.serializers.containers import (
    ContainerCreateSerializer,
    LogsQuerySerializer,
)
from apps.containers.services import containers as service
from apps.containers.services import images, networks
from dockpilot.errors import EngineUnavailable, PortalError

from ..forms import ContainerCreateForm
from ..middleware import style_nonce
from ..pages import (
    environment,
    may,
    may_each,
    next_url,
    page,
    portal_user,
    require,
    show,
    target,
)
from ..tables import STATE_FILTERS, facets, filter_containers

logger = logging.getLogger("dockpilot.portal.views.containers")

# The REST view's own rules: a page asks for exactly the verb its route does.
RULES = ContainerViewSet.access_rules
KIND = "container"
STOP_TIMEOUT = 10
Act = Callable[[Any, str, HttpRequest], Any]

ACTIONS: dict[str, tuple[Any, Act]] = {
    "start": (
        gettext_lazy("Container '%(name)s' started."),
        lambda e, i, r: service.start_container(e, i, request=r),
    ),
    "stop": (
        gettext_lazy("Container '%(name)s' stopped."),
        lambda e, i, r: service.stop_container(e, i, timeout=STOP_TIMEOUT, request=r),
    ),
    "restart": (
        gettext_lazy("Container '%(name)s' restarted."),
        lambda e, i, r: service.restart_container(
            e, i, timeout=STOP_TIMEOUT, request=r
        ),
    ),
    "pause": (
        gettext_lazy("Container '%(name)s' paused."),
        lambda e, i, r: service.pause_container(e, i, request=r),
    ),
    "unpause": (
        gettext_lazy("Container '%(name)s' resumed."),
        lambda e, i, r: service.unpause_container(e, i, request=r),
    ),
    "kill": (
        gettext_lazy("Container '%(name)s' killed."),
        lambda e, i, r: service.kill_container(e, i, signal="SIGKILL", request=r),
    ),
    "destroy": (
        gettext_lazy("Container '%(name)s' removed."),
        lambda e, i, r: service.remove_container(
            e, i, force=r.POST.get("force") == "on", volumes=False, request=r
        ),
    ),
}
BULK_ACTIONS = ("start", "stop", "restart", "destroy")
BULK_DONE = {
    "start": gettext_lazy("Started: %(count)d."),
    "stop": gettext_lazy("Stopped: %(count)d."),
    "restart": gettext_lazy("Restarted: %(count)d."),
    "destroy": gettext_lazy("Removed: %(count)d."),
}


def _list_url(request: HttpRequest) -> str:
    return reverse("portal:containers")


@page
@require_GET
def container_list(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["list"])
    user = portal_user(request)
    seen = hide_in_list(
        user, env, access.filter_visible(user, env, KIND, service.list_containers(env))
    )
    shown = filter_containers(seen, request.GET.dict())
    verbs = may_each(request, KIND, [c["id"] for c in shown])
    rows = [{**c, "verbs": verbs[c["id"]]} for c in shown]
    context = {
        "rows": rows,
        "total": len(seen),
        "facets": facets(seen),
        "states": STATE_FILTERS,
        "params": request.GET.dict(),
        "can_create": may(request, RULES["create"]),
        "can_bulk": any(row["verbs"] & {"operate", "delete"} for row in rows),
        "here": request.get_full_path(),
        "events_ws": _ws_url(request, "/ws/events/"),
    }
    return show(request, "portal/containers/list.html", context)


def _ws_url(request: HttpRequest, path: str, **params: Any) -> str:
    query = {"environment": environment(request).name, **params}
    return f"{path}?{urlencode(query)}"


def _act(request: HttpRequest, action: str, ident: str) -> str:
    """Run one action through its service; return the message to show."""
    done, run = ACTIONS[action]
    engine_id = target(request, KIND, ident, RULES[action])
    run(environment(request), engine_id, request)
    return str(done) % {"name": ident}


@page
@require_POST
def container_action(request: HttpRequest, ident: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return redirect("portal:containers")
    messages.success(request, _act(request, action, ident))
    default = (
        _list_url(request)
        if action == "destroy"
        else reverse("portal:container", args=[ident])
    )
    return HttpResponseRedirect(next_url(request, default))


@page
@require_POST
def container_bulk(request: HttpRequest) -> HttpResponse:
    """One action on every selected container; each is checked and audited."""
    action = request.POST.get("action", "")
    chosen = request.POST.getlist("ids")[:200]
    back = next_url(request, _list_url(request))
    if action not in BULK_ACTIONS or not chosen:
        messages.error(request, _("Select containers, then an action."))
        return HttpResponseRedirect(back)
    done, failed = [], []
    for ident in chosen:
        try:
            _act(request, action, ident)
            done.append(ident[:12])
        except PortalError as exc:
            failed.append(f"{ident[:12]}: {exc.detail}")
    if done:
        messages.success(request, BULK_DONE[action] % {"count": len(done)})
    for reason in failed:
        messages.error(request, reason)
    return HttpResponseRedirect(back)


def _detail_context(request: HttpRequest, ident: str) -> dict[str, Any]:
    engine_id = target(request, KIND, ident, RULES["retrieve"])
    verbs = may_each(request, KIND, [engine_id])[engine_id]
    document = service.inspect_container(
        environment(request), engine_id, reveal_env="change" in verbs
    )
    return {
        "c": document,
        "ident": ident,
        "name": document["Name"].lstrip("/"),
        "state": document["State"],
        "verbs": verbs,
        "env_revealed": "change" in verbs,
    }


@page
@require_GET
def container_detail(request: HttpRequest, ident: str) -> HttpResponse:
    context = _detail_context(request, ident)
    context["tab"] = "overview"
    return show(request, "portal/containers/detail.html", context)


@page
@require_GET
def container_inspect(request: HttpRequest, ident: str) -> HttpResponse:
    context = _detail_context(request, ident)
    context["tab"] = "inspect"
    context["pretty"] = json.dumps(context["c"], indent=2, sort_keys=True)
    return show(request, "portal/containers/inspect.html", context)


def _log_query(request: HttpRequest) -> dict[str, Any]:
    # The API's own query serializer; its booleans take "on" from checkboxes.
    data = {"tail": request.GET.get("tail", "200")}
    if request.GET.get("filtered"):
        for name in ("timestamps", "stdout", "stderr"):
            data[name] = "true" if request.GET.get(name) else "false"
    serializer = LogsQuerySerializer(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


def _read_logs(request: HttpRequest, engine_id: str, query: dict[str, Any]) -> Any:
    return service.container_logs(
        environment(request),
        engine_id,
        tail=query["tail"],
        since=None,
        until=None,
        timestamps=query["timestamps"],
        stdout=query["stdout"],
        stderr=query["stderr"],
    )


@page
@require_GET
def container_logs(request: HttpRequest, ident: str) -> HttpResponse:
    context = _detail_context(request, ident)
    try:
        query = _log_query(request)
    except serializers.ValidationError as exc:
        messages.error(request, _("Logs: %s") % exc.detail)
        query = _log_query_default()
    engine_id = context["c"]["Id"]
    ws_params = {key: str(value).lower() for key, value in query.items()}
    context.update(
        tab="logs",
        query=query,
        lines=_read_logs(request, engine_id, query)["lines"],
        logs_ws=_ws_url(
            request, f"/ws/containers/{engine_id}/logs/", **{**ws_params, "tail": 0}
        ),
        download=f"{reverse('portal:container-logs-download', args=[ident])}?"
        + urlencode(ws_params),
    )
    return show(request, "portal/containers/logs.html", context)


def _log_query_default() -> dict[str, Any]:
    serializer = LogsQuerySerializer(data={"tail": 200})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@page
@require_GET
def container_logs_download(request: HttpRequest, ident: str) -> HttpResponse:
    engine_id = target(request, KIND, ident, RULES["logs"])
    data = {**request.GET.dict(), "tail": request.GET.get("tail", "10000")}
    serializer = LogsQuerySerializer(data=data)
    serializer.is_valid(raise_exception=True)
    lines = _read_logs(request, engine_id, dict(serializer.validated_data))["lines"]
    text = "".join(
        f"{line.get('timestamp', '') + ' ' if line.get('timestamp') else ''}"
        f"{line['text']}\n"
        for line in lines
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ident}.log"'
    return response


def _create_choices(request: HttpRequest) -> dict[str, Any]:
    env = environment(request)
    tags = [
        f"{tag['repository']}:{tag['tag']}"
        for image in images.list_images(env)
        for tag in image["tags"]
    ]
    seen_networks = access.filter_visible(
        portal_user(request), env, "network", networks.list_networks(env)
    )
    return {"image_choices": sorted(tags), "network_choices": seen_networks}


def _create(request: HttpRequest, form: ContainerCreateForm) -> HttpResponse | None:
    spec = form.validate_with(ContainerCreateSerializer, form.body())
    if spec is None:
        return None
    try:
        created = service.create_container(environment(request), spec, request=request)
    except EngineUnavailable:
        raise
    except PortalError as exc:
        if exc.details.get("created"):
            # Created but not started: the container exists, show it.
            messages.error(request, str(exc.detail))
            return redirect("portal:container", exc.details["id"])
        form.error_for(str(exc.details.get("field", "")), str(exc.detail))
        return None
    done = (
        _("Container '%s' created and started.")
        if created["started"]
        else _("Container '%s' created.")
    )
    messages.success(request, done % created["name"])
    return redirect("portal:container", created["name"] or created["id"])


@page
def container_create(request: HttpRequest) -> HttpResponse:
    require(request, RULES["create"])
    form = ContainerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _create(request, form)
        if response is not None:
            return response
    context = {"form": form, **_create_choices(request)}
    status = 400 if form.errors else 200
    return show(request, "portal/containers/create.html", context, status=status)


@page
@require_GET
def container_stats(request: HttpRequest, ident: str) -> HttpResponse:
    """Live charts of one container, fed by its stats WebSocket."""
    context = _detail_context(request, ident)
    engine_id = context["c"]["Id"]
    context.update(
        tab="stats",
        stats_ws=_ws_url(request, f"/ws/containers/{engine_id}/stats/"),
    )
    return show(request, "portal/containers/stats.html", context)


@page
@require_GET
def container_terminal(request: HttpRequest, ident: str) -> HttpResponse:
    """An interactive shell in the container, for those who may operate it.

    The exec WebSocket asks the same verb (and the exec policy) again.
    """
    context = _detail_context(request, ident)
    if "operate" not in context["verbs"]:
        raise access.AccessDenied(_("You may not open a terminal in this container."))
    engine_id = context["c"]["Id"]
    context.update(
        tab="terminal",
        exec_ws=_ws_url(request, f"/ws/containers/{engine_id}/exec/"),
        style_nonce=style_nonce(request),
    )
    return show(request, "portal/containers/terminal.html", context)
