"""REST endpoints for containers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.permissions import acting_user
from apps.audit.models import Action
from apps.compose.services.masking import hide_in_list

from ..services import containers as service
from ..timeparse import to_unix
from .base import ENVIRONMENT_PARAM, DockerViewSet
from .serializers.containers import (
    ContainerCreateSerializer,
    DeleteQuerySerializer,
    KillSerializer,
    ListQuerySerializer,
    LogsQuerySerializer,
    RenameSerializer,
    StopSerializer,
)


@extend_schema(parameters=[ENVIRONMENT_PARAM])
class ContainerViewSet(DockerViewSet):
    resource_kind = "container"
    access_rules = {
        "list": "view",
        "create": "operate",
        "retrieve": "view",
        "logs": "view",
        "stats": "view",
        "top": "view",
        "start": "operate",
        "stop": "operate",
        "restart": "operate",
        "pause": "operate",
        "unpause": "operate",
        "kill": "operate",
        "rename": "change",
        "destroy": "delete",
    }
    audit_resource_type = "container"
    audit_actions = {
        "create": Action.CONTAINER_CREATE,
        "start": Action.CONTAINER_START,
        "stop": Action.CONTAINER_STOP,
        "restart": Action.CONTAINER_RESTART,
        "pause": Action.CONTAINER_PAUSE,
        "unpause": Action.CONTAINER_UNPAUSE,
        "kill": Action.CONTAINER_KILL,
        "rename": Action.CONTAINER_RENAME,
        "destroy": Action.CONTAINER_DELETE,
    }

    @extend_schema(parameters=[ListQuerySerializer])
    def list(self, request: Request) -> Response:
        query = self.query(ListQuerySerializer)
        items = service.list_containers(
            self.environment(), labels=request.query_params.getlist("label"), **query
        )
        shown = hide_in_list(request.user, self.environment(), self.visible_only(items))
        return self.paginated(request, shown)

    def retrieve(self, request: Request, pk: str) -> Response:
        environment = self.environment()
        document = self.target_document or access.inspected(
            environment, "container", self.target
        )
        return Response(
            service.inspect_for(acting_user(request), environment, document)
        )

    @extend_schema(request=ContainerCreateSerializer)
    def create(self, request: Request) -> Response:
        spec = self.body(ContainerCreateSerializer)
        created = service.create_container(self.environment(), spec, request=request)
        return Response(created, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[DeleteQuerySerializer])
    def destroy(self, request: Request, pk: str) -> Response:
        query = self.query(DeleteQuerySerializer)
        service.remove_container(
            self.environment(), self.target, request=request, **query
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        return Response(
            service.start_container(self.environment(), self.target, request=request)
        )

    @extend_schema(request=StopSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        timeout = self.body(StopSerializer)["timeout"]
        return Response(
            service.stop_container(
                self.environment(), self.target, timeout=timeout, request=request
            )
        )

    @extend_schema(request=StopSerializer)
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, pk: str) -> Response:
        timeout = self.body(StopSerializer)["timeout"]
        return Response(
            service.restart_container(
                self.environment(), self.target, timeout=timeout, request=request
            )
        )

    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        return Response(
            service.pause_container(self.environment(), self.target, request=request)
        )

    @action(detail=True, methods=["post"])
    def unpause(self, request: Request, pk: str) -> Response:
        return Response(
            service.unpause_container(self.environment(), self.target, request=request)
        )

    @extend_schema(request=KillSerializer)
    @action(detail=True, methods=["post"])
    def kill(self, request: Request, pk: str) -> Response:
        signal = self.body(KillSerializer)["signal"]
        return Response(
            service.kill_container(
                self.environment(), self.target, signal=signal, request=request
            )
        )

    @extend_schema(request=RenameSerializer)
    @action(detail=True, methods=["post"])
    def rename(self, request: Request, pk: str) -> Response:
        name = self.body(RenameSerializer)["name"]
        return Response(
            service.rename_container(
                self.environment(), self.target, new_name=name, request=request
            )
        )

    @extend_schema(parameters=[LogsQuerySerializer])
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str) -> Response:
        query = self.query(LogsQuerySerializer)
        return Response(
            service.container_logs(
                self.environment(),
                self.target,
                tail=query["tail"],
                since=to_unix("since", query.get("since")),
                until=to_unix("until", query.get("until")),
                timestamps=query["timestamps"],
                stdout=query["stdout"],
                stderr=query["stderr"],
            )
        )

    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str) -> Response:
        return Response(service.container_stats(self.environment(), self.target))

    @action(detail=True, methods=["get"])
    def top(self, request: Request, pk: str) -> Response:
        return Response(service.container_top(self.environment(), self.target))
