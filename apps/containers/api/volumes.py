"""REST endpoints for volumes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import Action

from ..services import volumes as service
from .base import ENVIRONMENT_PARAM, DockerViewSet
from .serializers.images import PruneSerializer
from .serializers.volumes import (
    VolumeCreateSerializer,
    VolumeDeleteQuerySerializer,
    VolumeListQuerySerializer,
)


@extend_schema(parameters=[ENVIRONMENT_PARAM])
class VolumeViewSet(DockerViewSet):
    resource_kind = "volume"
    # Pruning removes every unused volume, other users' too: it needs the
    # environment's change permission.
    access_rules = {
        "list": "view",
        "create": "operate",
        "prune": "change",
        "retrieve": "view",
        "destroy": "delete",
    }
    audit_resource_type = "volume"
    audit_actions = {
        "create": Action.VOLUME_CREATE,
        "destroy": Action.VOLUME_DELETE,
        "prune": Action.VOLUME_PRUNE,
    }

    @extend_schema(parameters=[VolumeListQuerySerializer])
    def list(self, request: Request) -> Response:
        query = self.query(VolumeListQuerySerializer)
        items = service.list_volumes(
            self.environment(), labels=request.query_params.getlist("label"), **query
        )
        return self.paginated(request, self.visible_only(items, key="name"))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(service.inspect_volume(self.environment(), self.target))

    @extend_schema(request=VolumeCreateSerializer)
    def create(self, request: Request) -> Response:
        spec = self.body(VolumeCreateSerializer)
        created = service.create_volume(self.environment(), request=request, **spec)
        return Response(created, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[VolumeDeleteQuerySerializer])
    def destroy(self, request: Request, pk: str) -> Response:
        query = self.query(VolumeDeleteQuerySerializer)
        service.remove_volume(self.environment(), self.target, request=request, **query)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PruneSerializer)
    @action(detail=False, methods=["post"])
    def prune(self, request: Request) -> Response:
        labels = self.body(PruneSerializer)["labels"]
        return Response(
            service.prune_volumes(self.environment(), labels=labels, request=request)
        )
