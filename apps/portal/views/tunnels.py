"""Tunnel pages: the list, create, edit, one tunnel live, start, stop, delete.

Everything goes through ``apps.tunnels.services``, as ``/api/v1/tunnels/``
does: the same access checks (``access.check_tunnel``), the same audit rows.
A tunnel the user may not see answers 404, as in the API; the buttons shown
are the verbs ``access.tunnel_verbs`` grants. Start and stop are jobs: the
tunnel page follows the latest one through the job WebSocket and polls the
tunnel's status with htmx while it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access
from apps.audit.models import Action, Outcome
from apps.audit.services import record
from apps.containers.services import containers
from apps.jobs.models import FINISHED, Job, Kind
from apps.jobs.permissions import visible_jobs
from apps.tunnels import services
from apps.tunnels.api.serializers import TunnelUpdateSerializer, TunnelWriteSerializer
from apps.tunnels.models import Provider, TunnelConfig, TunnelStatus
from apps.tunnels.permissions import find_tunnel
from dockpilot.errors import EngineUnavailable, PortalError

from ..pages import may_each, page, portal_user, require, show
from ..tunnel_forms import TunnelCreateForm, TunnelEditForm

logger = logging.getLogger("dockpilot.portal.views.tunnels")

OUTPUT_LINES = 100
# Statuses that change by themselves: the page polls faster while in them.
CHANGING = (TunnelStatus.STARTING,)


def _verbs(request: HttpRequest, tunnel: TunnelConfig) -> set[str]:
    return access.tunnel_verbs(portal_user(request), tunnel)


def _row(request: HttpRequest, tunnel: TunnelConfig) -> dict[str, Any]:
    verbs = _verbs(request, tunnel)
    stopped = tunnel.status in (TunnelStatus.STOPPED, TunnelStatus.FAILED)
    return {
        "tunnel": tunnel,
        "verbs": verbs,
        "may_start": "operate" in verbs and stopped,
        "may_stop": "operate" in verbs and not stopped,
        "may_delete": "delete" in verbs and stopped,
        "may_change": "change" in verbs,
        "removes": provider_leftovers(tunnel),
    }


def provider_leftovers(tunnel: TunnelConfig) -> str:
    """What deleting the tunnel removes at its provider, in words."""
    made = tunnel.created_at_provider or {}
    if tunnel.provider == Provider.CLOUDFLARE_NAMED and made:
        records = len(made.get("dns_record_ids") or [])
        return _(
            "At Cloudflare: the tunnel %(id)s and %(records)d DNS record(s) of "
            "%(host)s."
        ) % {
            "id": made.get("tunnel_id", "—"),
            "records": records,
            "host": tunnel.hostname,
        }
    if tunnel.provider == Provider.SSH:
        return _("Nothing is stored on the SSH server.")
    return _("Nothing was created at the provider.")


def _operable_containers(request: HttpRequest) -> list[str]:
    """Names of the containers of this environment the user may operate."""
    env = require(request, "view")
    seen = access.filter_visible(
        portal_user(request), env, "container", containers.list_containers(env)
    )
    verbs = may_each(request, "container", [c["id"] for c in seen])
    return sorted(c["name"] for c in seen if "operate" in verbs[c["id"]] and c["name"])


@page
@require_GET
def tunnel_list(request: HttpRequest) -> HttpResponse:
    env = require(request, "view")
    tunnels = access.visible_tunnels(portal_user(request)).filter(environment=env)
    rows = [_row(request, tunnel) for tunnel in tunnels.select_related("owner")]
    context = {
        "rows": rows,
        "can_create": access.role_allows(portal_user(request), "operate"),
        "changing": any(row["tunnel"].status in CHANGING for row in rows),
    }
    template = (
        "portal/tunnels/_table.html"
        if request.headers.get("HX-Request")
        else "portal/tunnels/list.html"
    )
    return show(request, template, context)


def _refused_in_form(form: Any, exc: PortalError) -> None:
    """A refusal of the service, next to the fields it names."""
    details = exc.details or {}
    message = str(exc.detail)
    missing = details.get("fields")
    if missing:
        for field in missing:
            # "options.host" or "target_port (1 to 65535)": the field's name.
            form.error_for(str(field).split(" ")[0], _("Needed by this provider."))
        return
    # Else the field the message starts with ("name: ..."), if it is one.
    form.error_for(str(details.get("field") or message.partition(": ")[0]), message)


@page
def tunnel_create(request: HttpRequest) -> HttpResponse:
    env = require(request, "view")
    user = portal_user(request)
    if not access.role_allows(user, "operate"):
        raise access.AccessDenied(_("Viewers may not create tunnels."))
    form = TunnelCreateForm(
        request.POST or None, containers=_operable_containers(request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            body = form.validate_with(TunnelWriteSerializer, form.body())
            if body is not None:
                body["environment_obj"] = env
                tunnel = services.create_tunnel(user, body, request=request)
                messages.success(request, _("Tunnel '%s' created.") % tunnel.name)
                return redirect("portal:tunnel", tunnel.pk)
        except EngineUnavailable:
            raise
        except PortalError as exc:
            _refused_in_form(form, exc)
    status = 400 if form.errors else 200
    context = {"form": form, "providers": Provider.values}
    return show(request, "portal/tunnels/create.html", context, status=status)


def _latest_job(request: HttpRequest, tunnel: TunnelConfig) -> Job | None:
    """The newest start or stop job of the tunnel that the user may see."""
    return (
        visible_jobs(portal_user(request))
        .filter(
            kind__in=(Kind.TUNNEL_START, Kind.TUNNEL_STOP), params__tunnel=tunnel.pk
        )
        .order_by("-queued_at")
        .first()
    )


def _status_context(request: HttpRequest, tunnel: TunnelConfig) -> dict[str, Any]:
    return {
        "r": _row(request, tunnel),
        "t": tunnel,
        "status": services.status_of(tunnel),
        "changing": tunnel.status in CHANGING,
    }


def _output(tunnel: TunnelConfig) -> list[str]:
    try:
        return services.recent_output(tunnel, OUTPUT_LINES)
    except PortalError as exc:
        # A sidecar's engine may be down; the rest of the page still helps.
        return [str(exc.detail)]


@page
@require_GET
def tunnel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tunnel = find_tunnel(portal_user(request), str(pk))
    job = _latest_job(request, tunnel)
    context = {
        **_status_context(request, tunnel),
        "output": _output(tunnel),
        "job": job,
        "job_running": job is not None and job.status not in FINISHED,
    }
    # htmx polls the live part only.
    partial = request.headers.get("HX-Request")
    template = (
        "portal/tunnels/_status.html" if partial else "portal/tunnels/detail.html"
    )
    return show(request, template, context)


@page
def tunnel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tunnel = find_tunnel(portal_user(request), str(pk))
    access.check_tunnel(portal_user(request), tunnel, "change")
    form = TunnelEditForm(request.POST or None, tunnel=tunnel)
    if request.method == "POST" and form.is_valid():
        try:
            body = form.validate_with(TunnelUpdateSerializer, form.body())
            if body is not None:
                services.update_tunnel(tunnel, body, request=request)
                messages.success(request, _("Tunnel '%s' saved.") % tunnel.name)
                return redirect("portal:tunnel", tunnel.pk)
        except PortalError as exc:
            _refused_in_form(form, exc)
    status = 400 if form.errors else 200
    context = {"form": form, "tunnel": tunnel}
    return show(request, "portal/tunnels/edit.html", context, status=status)


def _act(
    request: HttpRequest, pk: int, action: Action, act: Callable[..., Any]
) -> TunnelConfig:
    """Run a start, stop or delete; a refusal is audited as the API's is."""
    tunnel = None
    try:
        found = tunnel = find_tunnel(portal_user(request), str(pk))
        act(found, request=request)
        return found
    except PortalError as exc:
        # The service audits what it did; a refusal before it began is ours.
        if not getattr(request, "audited", False):
            record(
                action,
                request=request,
                resource_type="tunnel",
                resource_id=str(pk),
                resource_name=tunnel.name if tunnel else "",
                outcome=Outcome.FAILURE,
                reason=str(exc.detail),
                details={"status": exc.status_code, "code": exc.code},
            )
        raise


@page
@require_POST
def tunnel_start(request: HttpRequest, pk: int) -> HttpResponse:
    tunnel = _act(request, pk, Action.TUNNEL_START, services.submit_start)
    messages.success(request, _("Starting tunnel '%s'.") % tunnel.name)
    return redirect("portal:tunnel", tunnel.pk)


@page
@require_POST
def tunnel_stop(request: HttpRequest, pk: int) -> HttpResponse:
    tunnel = _act(request, pk, Action.TUNNEL_STOP, services.submit_stop)
    messages.success(request, _("Stopping tunnel '%s'.") % tunnel.name)
    return redirect("portal:tunnel", tunnel.pk)


@page
@require_POST
def tunnel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tunnel = _act(request, pk, Action.TUNNEL_DELETE, services.delete_tunnel)
    messages.success(request, _("Tunnel '%s' deleted.") % tunnel.name)
    return redirect("portal:tunnels")
