"""Job pages: pull and build forms, the jobs dashboard, one job live, cancel.

Pull and build go through the same services as ``POST images/pull`` and
``images/build`` (the same verb, checks and audit rows) and then show the
job, which follows ``/ws/jobs/<id>/``. Who sees and cancels a job is
``apps.jobs.permissions``, as for the REST routes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.containers.api.jobs import ImageJobViewSet
from apps.containers.api.serializers.jobs import BuildSerializer, PullSerializer
from apps.containers.services import builds, pulls
from apps.jobs import services as jobs
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.api.views import filter_jobs, find_job
from apps.jobs.models import FINISHED, Job
from apps.jobs.permissions import can_cancel, visible_jobs
from apps.registries.services import visible_credentials
from dockpilot.errors import EngineUnavailable, PortalError

from ..forms import BuildForm, JobFilterForm, PullForm
from ..pages import next_url, page, portal_user, require, show

logger = logging.getLogger("dockpilot.portal.views.jobs")

RULES = ImageJobViewSet.access_rules
PER_PAGE = 50


def _submitted(request: HttpRequest, job: Job) -> HttpResponse:
    messages.success(request, _("Job queued: %(kind)s %(target)s.") % vars(job))
    return redirect("portal:job", job.pk)


def _refused_in_form(form: Any, exc: PortalError) -> None:
    form.error_for(str(exc.details.get("field", "")), str(exc.detail))


@page
def image_pull(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["pull"])
    user = portal_user(request)
    credentials = visible_credentials(user).filter(owner=user)
    form = PullForm(request.POST or None, credentials=credentials)
    if request.method == "POST" and form.is_valid():
        try:
            body = form.validate_with(PullSerializer, form.body())
            if body is not None:
                job = pulls.submit_pull(env, user=user, request=request, **body)
                return _submitted(request, job)
        except EngineUnavailable:
            raise
        except PortalError as exc:
            _refused_in_form(form, exc)
    status = 400 if form.errors else 200
    return show(request, "portal/jobs/pull.html", {"form": form}, status=status)


def _build(request: HttpRequest, env: Any, form: BuildForm) -> Job | None:
    options = form.validate_with(BuildSerializer, form.body())
    if options is None:
        return None
    options.pop("context", None)
    upload = request.FILES.get("context")
    return builds.submit_build(
        env,
        options=options,
        upload=upload,
        upload_size=(upload.size or 0) if upload is not None else 0,
        user=portal_user(request),
        request=request,
    )


@page
def image_build(request: HttpRequest) -> HttpResponse:
    env = require(request, RULES["build"])
    form = BuildForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = _build(request, env, form)
        except EngineUnavailable:
            raise
        except PortalError as exc:
            _refused_in_form(form, exc)
        else:
            if job is not None:
                return _submitted(request, job)
    status = 400 if form.errors else 200
    return show(request, "portal/jobs/build.html", {"form": form}, status=status)


def _rows(request: HttpRequest, jobs_page: Any) -> list[dict[str, Any]]:
    user = portal_user(request)
    return [
        {
            "job": job,
            "running": job.status not in FINISHED,
            "may_cancel": job.status not in FINISHED and can_cancel(user, job),
        }
        for job in jobs_page
    ]


@page
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Every job the user may see, newest first, filtered as the API filters."""
    form = JobFilterForm(request.GET or None)
    query = form.cleaned_data if form.is_valid() else {}
    chosen = {key: value for key, value in query.items() if value}
    queryset = filter_jobs(visible_jobs(portal_user(request)), chosen)
    jobs_page = Paginator(queryset.order_by("-queued_at"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "rows": _rows(request, jobs_page),
        "jobs_page": jobs_page,
        "any_running": queryset.exclude(status__in=FINISHED).exists(),
        "query": request.GET.urlencode(),
    }
    template = (
        "portal/jobs/_table.html"
        if request.headers.get("HX-Request")
        else "portal/jobs/list.html"
    )
    return show(request, template, context)


@page
@require_GET
def job_detail(request: HttpRequest, pk: str) -> HttpResponse:
    # The output and layer bars come from the job's WebSocket, which replays
    # the stored chunks from the first one and then follows.
    job = find_job(portal_user(request), pk)
    context = {
        "job": job,
        "data": JobSerializer(job).data,
        "running": job.status not in FINISHED,
        "may_cancel": job.status not in FINISHED
        and can_cancel(portal_user(request), job),
    }
    return show(request, "portal/jobs/detail.html", context)


@page
@require_POST
def job_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    user = portal_user(request)
    job = find_job(user, pk)
    back = next_url(request, reverse("portal:job", args=[job.pk]))
    if can_cancel(user, job):
        jobs.cancel(job, request=request)
        messages.success(request, _("Cancel requested: %(target)s.") % vars(job))
    return HttpResponseRedirect(back)
