"""Pull, build and prune: each answers 202 with the job that does the work.

Watch the job at ``/api/v1/jobs/<id>/`` or ``/ws/jobs/<id>/``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import acting_user
from apps.audit.models import Action
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.models import Job

from ..services import builds, prunes, pulls
from .base import ENVIRONMENT_PARAM, DockerViewSet
from .serializers.jobs import BuildSerializer, PruneJobSerializer, PullSerializer


def accepted(job: Job) -> Response:
    return Response(
        JobSerializer(job).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/jobs/{job.pk}/"},
    )


@extend_schema(parameters=[ENVIRONMENT_PARAM], responses={202: JobSerializer})
class ImageJobViewSet(DockerViewSet):
    # Pulling or building adds images to the environment, as tagging does.
    access_rules = {"pull": "operate", "build": "operate"}
    environment_actions = ("pull", "build")
    audit_resource_type = "image"
    audit_actions = {"pull": Action.IMAGE_PULL, "build": Action.IMAGE_BUILD}

    # A build may come with a context upload; a pull is JSON either way.
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(request=PullSerializer)
    def pull(self, request: Request) -> Response:
        body = self.body(PullSerializer)
        job = pulls.submit_pull(
            self.environment(), user=acting_user(request), request=request, **body
        )
        return accepted(job)

    @extend_schema(
        request={
            "multipart/form-data": BuildSerializer,
            "application/json": BuildSerializer,
        }
    )
    def build(self, request: Request) -> Response:
        options = self.body(BuildSerializer)
        upload = options.pop("context")
        job = builds.submit_build(
            self.environment(),
            options=options,
            upload=upload,
            upload_size=upload.size if upload is not None else 0,
            user=acting_user(request),
            request=request,
        )
        return accepted(job)


@extend_schema(parameters=[ENVIRONMENT_PARAM], responses={202: JobSerializer})
class PruneJobViewSet(DockerViewSet):
    access_rules = {"create": "change"}
    audit_resource_type = "prune"
    audit_actions = {"create": Action.JOB_CREATE}

    @extend_schema(request=PruneJobSerializer)
    def create(self, request: Request) -> Response:
        body = self.body(PruneJobSerializer)
        job = prunes.submit_prune(
            self.environment(),
            what=body["what"],
            labels=body["labels"],
            all_unused=body["all"],
            until=body["until"],
            user=acting_user(request),
            request=request,
        )
        return accepted(job)
