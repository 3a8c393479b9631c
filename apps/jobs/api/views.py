"""Jobs: list, detail, output from a chunk number, cancel."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import Action
from dockpilot.errors import NotFound
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from .. import services
from ..models import Job
from ..permissions import can_cancel, visible_jobs
from .serializers import (
    JobListQuerySerializer,
    JobOutputQuerySerializer,
    JobOutputSerializer,
    JobSerializer,
)


def find_job(user: Any, pk: str) -> Job:
    """A job the user may see; any other id is a 404, as if it did not exist."""
    try:
        job = visible_jobs(user).filter(pk=pk).first()
    except Exception:  # not a UUID
        job = None
    if job is None:
        raise NotFound(f"job '{pk}' does not exist.", code="job_not_found")
    return job


def filter_jobs(queryset: QuerySet[Job], query: dict[str, Any]) -> QuerySet[Job]:
    if "kind" in query:
        queryset = queryset.filter(kind=query["kind"])
    if "status" in query:
        queryset = queryset.filter(status=query["status"])
    user = query.get("user")
    if user:
        lookup = {"user_id": int(user)} if user.isdigit() else {"user__username": user}
        queryset = queryset.filter(**lookup)
    return queryset


JOB_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class JobViewSet(PortalViewSet):
    audit_resource_type = "job"
    audit_actions = {"cancel": Action.JOB_CANCEL}

    @extend_schema(
        parameters=[JobListQuerySerializer], responses=JobSerializer(many=True)
    )
    def list(self, request: Request) -> Response:
        query = JobListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        jobs = filter_jobs(visible_jobs(request.user), dict(query.validated_data))
        paginator = Pagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True).data)

    @extend_schema(parameters=[JOB_ID], responses=JobSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(JobSerializer(find_job(request.user, pk)).data)

    @extend_schema(
        parameters=[JOB_ID, JobOutputQuerySerializer],
        responses=JobOutputSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def output(self, request: Request, pk: str) -> Response:
        job = find_job(request.user, pk)
        query = JobOutputQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        chunks = services.output_after(job, **query.validated_data)
        return Response(
            {
                "job": JobSerializer(job).data,
                "chunks": JobOutputSerializer(chunks, many=True).data,
            }
        )

    @extend_schema(parameters=[JOB_ID], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        job = find_job(request.user, pk)
        if not can_cancel(request.user, job):
            raise NotFound(f"job '{pk}' does not exist.", code="job_not_found")
        return Response(JobSerializer(services.cancel(job, request=request)).data)
