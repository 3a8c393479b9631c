"""Compose pages: projects with their services' states, the editor, operations.

Every page goes through the services and the access checks of the REST
routes under ``compose/`` (the same verbs, the same audit rows): ``view``
to read a project, ``change`` to save its files, ``operate`` to deploy,
stop, start, restart, pull and bring it down, ``delete`` to forget it.
An operation queues a job and comes back to the project's page, which
follows that job's output over ``/ws/jobs/<id>/`` as the job page does.

Known shortcomings: the list reads each project's containers with one
engine call per project; the services table is read again only when an
operation followed on the page ends (changes made elsewhere need a
reload); the logs page shows the last lines, it does not follow; a project
named ``new`` is reached through the API only, as ``compose/new/`` is the
create form.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access
from apps.compose.api.serializers import (
    ComposeDownSerializer,
    ComposeProjectCreateSerializer,
    ComposeServiceStopSerializer,
    ComposeUpSerializer,
)
from apps.compose.envfile import masked_env
from apps.compose.models import ComposeProject
from apps.compose.names import check_names
from apps.compose.services import operations, outside, projects
from apps.compose.services import status as project_status
from apps.jobs.models import FINISHED
from apps.jobs.permissions import visible_jobs
from dockpilot.errors import BadRequest, EngineUnavailable, NotFound, PortalError

from ..forms import ComposeForm, ComposeLogsForm
from ..pages import may, page, portal_user, require, show

logger = logging.getLogger("dockpilot.portal.views.compose")

OPERATIONS = ("up", "down", "stop", "start", "restart", "pull")
SERVICE_OPERATIONS = ("start", "stop", "restart")
STATES = ("running", "finished", "failed", "stopped")


def find_project(request: HttpRequest, name: str, verb: str) -> ComposeProject:
    """The project a page names, if the user may ``verb`` it (else 404/403)."""
    user = portal_user(request)
    project = access.visible_projects(user).filter(name=name).first()
    if project is None:
        raise NotFound(f"compose project '{name}' does not exist.")
    access.require_project(user, project, verb)
    return project


def _counts(seen: dict[str, Any]) -> dict[str, int]:
    return {state: len(seen[state]) for state in STATES}


@page
@require_GET
def compose_list(request: HttpRequest) -> HttpResponse:
    """The environment's projects, their services counted by state, and the
    stacks started elsewhere (read-only; admins may adopt them)."""
    env = require(request, "view")
    user = portal_user(request)
    rows = []
    for project in access.visible_projects(user).filter(environment=env):
        seen = project_status.refresh_status(project)
        rows.append({"project": project, "seen": seen, "counts": _counts(seen)})
    context = {
        "rows": rows,
        "stacks": outside.outside_stacks(user, env),
        "can_create": may(request, "operate"),
    }
    return show(request, "portal/compose/list.html", context)


def _error_line(exc: PortalError) -> int | None:
    line = (exc.details or {}).get("line")
    return int(line) if isinstance(line, int) else None


def _refused_in_form(form: ComposeForm, exc: PortalError) -> None:
    """A refusal next to its field; a compose error also marks its line."""
    field = str((exc.details or {}).get("field", ""))
    form.error_for(field, str(exc.detail))
    if field == "compose":
        form.error_line = _error_line(exc)


@page
def compose_create(request: HttpRequest) -> HttpResponse:
    env = require(request, "operate")
    form = ComposeForm(request.POST or None, with_name=True)
    if request.method == "POST" and form.is_valid():
        try:
            body = form.validate_with(ComposeProjectCreateSerializer, form.body())
            if body is not None:
                project = projects.create_project(
                    portal_user(request),
                    env,
                    name=body["name"],
                    compose_yaml=body["compose"],
                    env_text=body["env"],
                    request=request,
                )
                messages.success(request, _("Project %s created.") % project.name)
                return redirect("portal:compose-project", project.name)
        except EngineUnavailable:
            raise
        except PortalError as exc:
            _refused_in_form(form, exc)
    status = 400 if form.errors else 200
    return show(request, "portal/compose/create.html", {"form": form}, status=status)


def _may(request: HttpRequest, project: ComposeProject) -> dict[str, bool]:
    user = portal_user(request)
    return {
        f"may_{verb}": access.allowed(user, project, verb)
        for verb in ("change", "operate", "delete")
    }


def _last_job(request: HttpRequest, project: ComposeProject) -> Any:
    if project.last_job_id is None:
        return None
    return visible_jobs(portal_user(request)).filter(pk=project.last_job_id).first()


def _save(
    request: HttpRequest, project: ComposeProject, form: ComposeForm
) -> HttpResponse | None:
    """Save or only check the typed files; None when the form shows errors."""
    user = portal_user(request)
    text = {
        "compose_yaml": form.cleaned_data["compose"],
        "env_text": form.cleaned_data["env"],
    }
    if request.POST.get("intent") == "validate":
        # Checking interpolates the saved .env: only for those who may see it.
        find_project(request, project.name, "change")
        found = projects.validate_project(user, project, request=request, **text)
        messages.success(
            request,
            _("The files are valid: services %s.") % ", ".join(found["services"]),
        )
        return None
    find_project(request, project.name, "change")
    projects.update_project(user, project, request=request, **text)
    messages.success(request, _("Project %s saved.") % project.name)
    return redirect("portal:compose-project", project.name)


@page
def compose_project(request: HttpRequest, name: str) -> HttpResponse:
    """One project: its files in the editor, ps, actions, its last job live."""
    project = find_project(request, name, "view")
    allowed = _may(request, project)
    shown_env = (
        project.env_text if allowed["may_change"] else masked_env(project.env_text)
    )
    form = ComposeForm(
        request.POST or None,
        initial={"compose": project.compose_yaml, "env": shown_env},
    )
    if not allowed["may_change"]:
        for field in form.fields.values():
            field.widget.attrs["readonly"] = True
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request, project, form)
            if saved is not None:
                return saved
        except EngineUnavailable:
            raise
        except (access.AccessDenied, NotFound):
            raise
        except PortalError as exc:
            _refused_in_form(form, exc)
            status = 400
    seen = project_status.refresh_status(project)
    job = _last_job(request, project)
    context = {
        "project": project,
        "form": form,
        "seen": seen,
        "counts": _counts(seen),
        "job": job,
        "job_running": job is not None and job.status not in FINISHED,
        "project_actions": [
            ("up", _("Deploy")),
            ("start", _("Start")),
            ("stop", _("Stop")),
            ("restart", _("Restart")),
            ("pull", _("Pull images")),
        ],
        "service_actions": [
            ("start", _("Start")),
            ("stop", _("Stop")),
            ("restart", _("Restart")),
        ],
        # Removing every image the project uses reaches images others use.
        "may_remove_all_images": access.allowed(
            portal_user(request), project.environment, "change"
        ),
        **allowed,
    }
    if request.GET.get("part") == "ps":
        return show(request, "portal/compose/_ps.html", context)
    return show(request, "portal/compose/detail.html", context, status=status)


def _options(request: HttpRequest, operation: str) -> dict[str, Any]:
    """The body of the REST route, from the form's fields, checked as there."""
    post = request.POST
    body: dict[str, Any] = {}
    serializer: Any = None
    if operation == "up":
        # No pull option unless asked: the file's pull_policy decides.
        body = {"pull": post["pull"]} if post.get("pull") else {}
        serializer = ComposeUpSerializer
    elif operation == "down":
        body = {
            "remove_volumes": post.get("remove_volumes") == "on",
            "remove_images": post.get("remove_images", ""),
        }
        serializer = ComposeDownSerializer
    if serializer is None:
        return body
    checked = serializer(data=body)
    if not checked.is_valid():
        raise BadRequest(f"{operation}: {checked.errors}")
    return dict(checked.validated_data)


def _queued(request: HttpRequest, project: ComposeProject, job: Any) -> HttpResponse:
    messages.success(
        request,
        _("Job queued: %(kind)s %(target)s.")
        % {"kind": job.kind, "target": job.target},
    )
    return redirect("portal:compose-project", project.name)


@page
@require_POST
def compose_action(request: HttpRequest, name: str, operation: str) -> HttpResponse:
    project = find_project(request, name, "operate")
    job = operations.submit_operation(
        project,
        operation,
        _options(request, operation),
        user=portal_user(request),
        request=request,
    )
    return _queued(request, project, job)


@page
@require_POST
def compose_service_action(
    request: HttpRequest, name: str, service: str, operation: str
) -> HttpResponse:
    project = find_project(request, name, "operate")
    check_names("service", [service])
    options: dict[str, Any] = {"services": [service]}
    if operation != "start":
        checked = ComposeServiceStopSerializer(data={})
        checked.is_valid(raise_exception=True)
        options.update(checked.validated_data)
    job = operations.submit_operation(
        project, operation, options, user=portal_user(request), request=request
    )
    return _queued(request, project, job)


@page
@require_POST
def compose_delete(request: HttpRequest, name: str) -> HttpResponse:
    project = find_project(request, name, "delete")
    projects.delete_project(project, request=request)
    messages.success(request, _("Project %s deleted.") % name)
    return redirect("portal:compose")


@page
@require_GET
def compose_logs(request: HttpRequest, name: str) -> HttpResponse:
    """The merged logs of the project's containers, in time order."""
    project = find_project(request, name, "view")
    form = ComposeLogsForm(request.GET or None)
    query = form.cleaned_data if form.is_valid() else ComposeLogsForm.DEFAULTS
    services = [part for part in (query.get("service") or "").split(",") if part]
    logs = project_status.project_logs(
        project,
        tail=query.get("tail") or ComposeLogsForm.DEFAULTS["tail"],
        since=None,
        timestamps=bool(query.get("timestamps")),
        services=check_names("services", services),
    )
    context = {"project": project, "form": form, "lines": logs["lines"]}
    return show(request, "portal/compose/logs.html", context)


@page
@require_POST
def stack_adopt(request: HttpRequest, name: str) -> HttpResponse:
    """An admin makes a stack started elsewhere a project of the portal."""
    admin = portal_user(request)
    if not access.is_admin(admin):
        raise access.AccessDenied(_("Only admins may adopt a stack."))
    env = require(request, "view")
    project = outside.adopt_stack(
        admin,
        env,
        name,
        compose_yaml=request.POST.get("compose") or None,
        env_text=None,
        owner=None,
        request=request,
    )
    messages.success(request, _("Stack %s adopted.") % project.name)
    return redirect("portal:compose-project", project.name)
