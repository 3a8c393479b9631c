"""REST endpoints for networks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.audit.models import Action

from ..services import networks as service
from .base import ENVIRONMENT_PARAM, DockerViewSet
from .serializers.images import PruneSerializer
from .serializers.networks import (
    ConnectSerializer,
    DisconnectSerializer,
    NetworkCreateSerializer,
    NetworkListQuerySerializer,
)


@extend_schema(parameters=[ENVIRONMENT_PARAM])
class NetworkViewSet(DockerViewSet):
    resource_kind = "network"
    # Connecting a container changes who can reach the network's members.
    access_rules = {
        "list": "view",
        "create": "operate",
        "prune": "change",
        "retrieve": "view",
        "destroy": "delete",
        "connect": "change",
        "disconnect": "change",
    }
    audit_resource_type = "network"
    audit_actions = {
        "create": Action.NETWORK_CREATE,
        "destroy": Action.NETWORK_DELETE,
        "connect": Action.NETWORK_CONNECT,
        "disconnect": Action.NETWORK_DISCONNECT,
        "prune": Action.NETWORK_PRUNE,
    }

    @extend_schema(parameters=[NetworkListQuerySerializer])
    def list(self, request: Request) -> Response:
        query = self.query(NetworkListQuerySerializer)
        items = service.list_networks(
            self.environment(), labels=request.query_params.getlist("label"), **query
        )
        return self.paginated(request, self.visible_only(items))

    def retrieve(self, request: Request, pk: str) -> Response:
        document = service.inspect_network(self.environment(), self.target)
        return Response(self.without_hidden_members(document))

    def without_hidden_members(self, document: dict[str, Any]) -> dict[str, Any]:
        # A network's members are containers: list only those the user sees.
        members = document.get("Containers") or {}
        seen = access.visible(
            self.request.user, self.environment(), "container", members
        )
        document["Containers"] = {
            ident: entry for ident, entry in members.items() if ident in seen
        }
        document["attached_containers"] = [
            entry for entry in document["attached_containers"] if entry["id"] in seen
        ]
        return document

    @extend_schema(request=NetworkCreateSerializer)
    def create(self, request: Request) -> Response:
        spec = self.body(NetworkCreateSerializer)
        created = service.create_network(self.environment(), spec, request=request)
        return Response(created, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        service.remove_network(self.environment(), self.target, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ConnectSerializer)
    @action(detail=True, methods=["post"])
    def connect(self, request: Request, pk: str) -> Response:
        body = self.body(ConnectSerializer)
        return Response(
            service.connect_container(
                self.environment(), self.target, request=request, **body
            )
        )

    @extend_schema(request=DisconnectSerializer)
    @action(detail=True, methods=["post"])
    def disconnect(self, request: Request, pk: str) -> Response:
        body = self.body(DisconnectSerializer)
        return Response(
            service.disconnect_container(
                self.environment(), self.target, request=request, **body
            )
        )

    @extend_schema(request=PruneSerializer)
    @action(detail=False, methods=["post"])
    def prune(self, request: Request) -> Response:
        labels = self.body(PruneSerializer)["labels"]
        return Response(
            service.prune_networks(self.environment(), labels=labels, request=request)
        )
