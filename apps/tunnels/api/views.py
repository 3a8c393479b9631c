"""Tunnels: CRUD, start and stop (jobs), status and recent output."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.permissions import acting_user
from apps.audit.models import Action
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.models import Job
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from .. import services
from ..permissions import find_tunnel
from .serializers import (
    TunnelLogsQuerySerializer,
    TunnelLogsSerializer,
    TunnelSerializer,
    TunnelStatusSerializer,
    TunnelUpdateSerializer,
    TunnelWriteSerializer,
)


def accepted(job: Job) -> Response:
    return Response(
        JobSerializer(job).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/jobs/{job.pk}/"},
    )


TUNNEL_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class TunnelViewSet(PortalViewSet):
    audit_resource_type = "tunnel"
    audit_actions = {
        "create": Action.TUNNEL_CREATE,
        "update": Action.TUNNEL_UPDATE,
        "partial_update": Action.TUNNEL_UPDATE,
        "destroy": Action.TUNNEL_DELETE,
        "start": Action.TUNNEL_START,
        "stop": Action.TUNNEL_STOP,
    }

    def _body(self, serializer_class: Any, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(responses=TunnelSerializer(many=True))
    def list(self, request: Request) -> Response:
        tunnels = access.visible_tunnels(acting_user(request))
        paginator = Pagination()
        page = paginator.paginate_queryset(tunnels, request, view=self)
        return paginator.get_paginated_response(TunnelSerializer(page, many=True).data)

    @extend_schema(parameters=[TUNNEL_ID], responses=TunnelSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TunnelSerializer(find_tunnel(request.user, pk)).data)

    @extend_schema(request=TunnelWriteSerializer, responses=TunnelSerializer)
    def create(self, request: Request) -> Response:
        tunnel = services.create_tunnel(
            acting_user(request), self._body(TunnelWriteSerializer), request=request
        )
        return Response(TunnelSerializer(tunnel).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[TUNNEL_ID],
        request=TunnelUpdateSerializer,
        responses=TunnelSerializer,
    )
    def update(self, request: Request, pk: str) -> Response:
        tunnel = find_tunnel(request.user, pk)
        data = self._body(TunnelUpdateSerializer)
        return Response(
            TunnelSerializer(services.update_tunnel(tunnel, data, request=request)).data
        )

    @extend_schema(
        parameters=[TUNNEL_ID],
        request=TunnelUpdateSerializer,
        responses=TunnelSerializer,
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        tunnel = find_tunnel(request.user, pk)
        data = self._body(TunnelUpdateSerializer, partial=True)
        return Response(
            TunnelSerializer(services.update_tunnel(tunnel, data, request=request)).data
        )

    @extend_schema(parameters=[TUNNEL_ID])
    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_tunnel(find_tunnel(request.user, pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[TUNNEL_ID], request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        job = services.submit_start(find_tunnel(request.user, pk), request=request)
        return accepted(job)

    @extend_schema(parameters=[TUNNEL_ID], request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        job = services.submit_stop(find_tunnel(request.user, pk), request=request)
        return accepted(job)

    @extend_schema(parameters=[TUNNEL_ID], responses=TunnelStatusSerializer)
    @action(detail=True, methods=["get"], url_path="status")
    def status_of(self, request: Request, pk: str) -> Response:
        tunnel = find_tunnel(request.user, pk)
        return Response(TunnelStatusSerializer(services.status_of(tunnel)).data)

    @extend_schema(
        parameters=[TUNNEL_ID, TunnelLogsQuerySerializer],
        responses=TunnelLogsSerializer,
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str) -> Response:
        tunnel = find_tunnel(request.user, pk)
        query = TunnelLogsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        lines = services.recent_output(tunnel, query.validated_data["lines"])
        return Response({"lines": lines})
