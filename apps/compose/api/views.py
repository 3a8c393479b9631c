"""REST endpoints of Compose projects under /api/v1/compose/.

Projects are named in the URL by their name. Every handler asks the access
module first: a project out of reach answers 404, one seen but not allowed
403. Operations answer 202 with the job that runs the CLI.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.models import User
from apps.accounts.permissions import AdminOnly, acting_user
from apps.audit.models import Action
from apps.containers.api.base import ENVIRONMENT_PARAM
from apps.containers.api.jobs import accepted
from apps.containers.models import Environment
from apps.containers.timeparse import to_unix
from apps.jobs.api.serializers import JobSerializer
from dockpilot.errors import BadRequest, NotFound
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from ..models import ComposeProject
from ..names import check_names
from ..services import operations, outside, projects
from ..services import status as project_status
from .serializers import (
    ComposeAdoptSerializer,
    ComposeDownSerializer,
    ComposeLogsQuerySerializer,
    ComposeProjectCreateSerializer,
    ComposeProjectSerializer,
    ComposeProjectUpdateSerializer,
    ComposeServicesSerializer,
    ComposeServiceStartSerializer,
    ComposeServiceStopSerializer,
    ComposeStopSerializer,
    ComposeUpSerializer,
    ComposeValidateSerializer,
)

NAME = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)
SERVICE = OpenApiParameter("service", OpenApiTypes.STR, OpenApiParameter.PATH)
_OPERATION_BODIES = {
    "up": ComposeUpSerializer,
    "down": ComposeDownSerializer,
    "stop": ComposeStopSerializer,
    "start": ComposeServicesSerializer,
    "restart": ComposeStopSerializer,
    "pull": ComposeServicesSerializer,
}


def shown(request: Request, data: Any, many: bool = False) -> Any:
    """Projects as the API shows them to this request's user."""
    context = {"user": acting_user(request)}
    return ComposeProjectSerializer(data, many=many, context=context).data


class ComposeViewSet(PortalViewSet):
    """Projects CRUD, validation, operations, ps and logs."""

    # The access module decides, after seeing the project: a viewer asking
    # to deploy a project they cannot see gets 404, not the role's 403.
    permission_classes = [IsAuthenticated]
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    audit_resource_type = "compose_project"
    audit_actions = {
        "create": Action.COMPOSE_CREATE,
        "update": Action.COMPOSE_UPDATE,
        "partial_update": Action.COMPOSE_UPDATE,
        "destroy": Action.COMPOSE_DELETE,
        "validate": Action.COMPOSE_VALIDATE,
        **{operation: operations.ACTIONS[operation] for operation in _OPERATION_BODIES},
        "service_start": Action.COMPOSE_START,
        "service_stop": Action.COMPOSE_STOP,
        "service_restart": Action.COMPOSE_RESTART,
    }

    def _environment(self) -> Environment:
        return access.environment_for(
            self.request.user, self.request.query_params.get("environment")
        )

    def _project(self, name: str, verb: str) -> ComposeProject:
        user = acting_user(self.request)
        project = access.visible_projects(user).filter(name=name).first()
        if project is None:
            raise NotFound(f"compose project '{name}' does not exist.")
        access.require_project(user, project, verb)
        return project

    def _body(self, serializer_class: type, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(responses=ComposeProjectSerializer(many=True))
    def list(self, request: Request) -> Response:
        queryset = access.visible_projects(acting_user(request))
        if request.query_params.get("environment"):
            queryset = queryset.filter(environment=self._environment())
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(shown(request, page, many=True))

    @extend_schema(
        parameters=[ENVIRONMENT_PARAM],
        request=ComposeProjectCreateSerializer,
        responses={201: ComposeProjectSerializer},
    )
    def create(self, request: Request) -> Response:
        user = acting_user(request)
        environment = self._environment()
        access.require_environment(user, environment, "operate")
        body = self._body(ComposeProjectCreateSerializer)
        project = projects.create_project(
            user,
            environment,
            name=body["name"],
            compose_yaml=body["compose"],
            env_text=body["env"],
            request=request,
        )
        return Response(shown(request, project), status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[NAME], responses=ComposeProjectSerializer)
    def retrieve(self, request: Request, name: str) -> Response:
        return Response(shown(request, self._project(name, "view")))

    def _update(self, request: Request, name: str, partial: bool) -> Response:
        project = self._project(name, "change")
        body = self._body(ComposeProjectUpdateSerializer, partial=partial)
        if not partial and "compose" not in body:
            raise BadRequest(
                "compose: give the compose file.", details={"field": "compose"}
            )
        updated = projects.update_project(
            acting_user(request),
            project,
            compose_yaml=body.get("compose"),
            env_text=body.get("env", None if partial else ""),
            request=request,
        )
        return Response(shown(request, updated))

    @extend_schema(
        parameters=[NAME],
        request=ComposeProjectUpdateSerializer,
        responses=ComposeProjectSerializer,
    )
    def update(self, request: Request, name: str) -> Response:
        return self._update(request, name, partial=False)

    @extend_schema(
        parameters=[NAME],
        request=ComposeProjectUpdateSerializer,
        responses=ComposeProjectSerializer,
    )
    def partial_update(self, request: Request, name: str) -> Response:
        return self._update(request, name, partial=True)

    @extend_schema(parameters=[NAME], responses={204: None})
    def destroy(self, request: Request, name: str) -> Response:
        projects.delete_project(self._project(name, "delete"), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[NAME],
        request=ComposeValidateSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, name: str) -> Response:
        # The model and its errors carry the saved .env's values, interpolated:
        # only for those who may see (and change) them.
        project = self._project(name, "change")
        body = self._body(ComposeValidateSerializer)
        return Response(
            projects.validate_project(
                acting_user(request),
                project,
                compose_yaml=body.get("compose"),
                env_text=body.get("env"),
                request=request,
            )
        )

    def _operate(
        self, project: ComposeProject, operation: str, options: dict[str, Any]
    ) -> Response:
        job = operations.submit_operation(
            project,
            operation,
            options,
            user=acting_user(self.request),
            request=self.request,
        )
        return accepted(job)

    def _operation(self, request: Request, name: str, operation: str) -> Response:
        # Access first: a project out of reach is a 404 whatever the body.
        project = self._project(name, "operate")
        body = self._body(_OPERATION_BODIES[operation])
        return self._operate(project, operation, body)

    @extend_schema(
        parameters=[NAME], request=ComposeUpSerializer, responses={202: JobSerializer}
    )
    @action(detail=True, methods=["post"])
    def up(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "up")

    @extend_schema(
        parameters=[NAME], request=ComposeDownSerializer, responses={202: JobSerializer}
    )
    @action(detail=True, methods=["post"])
    def down(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "down")

    @extend_schema(
        parameters=[NAME], request=ComposeStopSerializer, responses={202: JobSerializer}
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "stop")

    @extend_schema(
        parameters=[NAME],
        request=ComposeServicesSerializer,
        responses={202: JobSerializer},
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "start")

    @extend_schema(
        parameters=[NAME], request=ComposeStopSerializer, responses={202: JobSerializer}
    )
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "restart")

    @extend_schema(
        parameters=[NAME],
        request=ComposeServicesSerializer,
        responses={202: JobSerializer},
    )
    @action(detail=True, methods=["post"])
    def pull(self, request: Request, name: str) -> Response:
        return self._operation(request, name, "pull")

    def _service(self, name: str, service: str, operation: str) -> Response:
        project = self._project(name, "operate")
        check_names("service", [service])
        body = (
            ComposeServiceStartSerializer
            if operation == "start"
            else ComposeServiceStopSerializer
        )
        options: dict[str, Any] = {"services": [service], **self._body(body)}
        return self._operate(project, operation, options)

    @extend_schema(
        parameters=[NAME, SERVICE],
        request=ComposeServiceStartSerializer,
        responses={202: JobSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"services/(?P<service>[^/]+)/start",
        url_name="service-start",
    )
    def service_start(self, request: Request, name: str, service: str) -> Response:
        return self._service(name, service, "start")

    @extend_schema(
        parameters=[NAME, SERVICE],
        request=ComposeServiceStopSerializer,
        responses={202: JobSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"services/(?P<service>[^/]+)/stop",
        url_name="service-stop",
    )
    def service_stop(self, request: Request, name: str, service: str) -> Response:
        return self._service(name, service, "stop")

    @extend_schema(
        parameters=[NAME, SERVICE],
        request=ComposeServiceStopSerializer,
        responses={202: JobSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"services/(?P<service>[^/]+)/restart",
        url_name="service-restart",
    )
    def service_restart(self, request: Request, name: str, service: str) -> Response:
        return self._service(name, service, "restart")

    @extend_schema(parameters=[NAME], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def ps(self, request: Request, name: str) -> Response:
        project = self._project(name, "view")
        return Response(project_status.refresh_status(project))

    @extend_schema(
        parameters=[NAME, ComposeLogsQuerySerializer], responses=OpenApiTypes.OBJECT
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, name: str) -> Response:
        project = self._project(name, "view")
        serializer = ComposeLogsQuerySerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        services = [part for part in query["services"].split(",") if part]
        return Response(
            project_status.project_logs(
                project,
                tail=query["tail"],
                since=to_unix("since", query.get("since")),
                timestamps=query["timestamps"],
                services=check_names("services", services),
            )
        )


@extend_schema(parameters=[ENVIRONMENT_PARAM])
class OutsideStackViewSet(PortalViewSet):
    """Stacks with Compose labels that no project here manages."""

    permission_classes = [IsAuthenticated]
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    audit_resource_type = "compose_project"
    audit_actions = {"adopt": Action.COMPOSE_ADOPT}

    def get_permissions(self) -> list[Any]:
        if self.action == "adopt":
            return [AdminOnly()]
        return [IsAuthenticated()]

    def _environment(self) -> Environment:
        return access.environment_for(
            self.request.user, self.request.query_params.get("environment")
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def list(self, request: Request) -> Response:
        user = acting_user(request)
        environment = self._environment()
        access.require_environment(user, environment, "view")
        stacks = outside.outside_stacks(user, environment)
        paginator = Pagination()
        page = paginator.paginate_queryset(stacks, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(page)

    @extend_schema(
        parameters=[NAME],
        request=ComposeAdoptSerializer,
        responses={201: ComposeProjectSerializer},
    )
    @action(detail=True, methods=["post"])
    def adopt(self, request: Request, name: str) -> Response:
        admin = acting_user(request)
        environment = self._environment()
        serializer = ComposeAdoptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        owner = None
        if body.get("owner"):
            owner = User.objects.filter(username=body["owner"], is_active=True).first()
            if owner is None:
                raise BadRequest(
                    f"owner: no active user '{body['owner']}'.",
                    details={"field": "owner"},
                )
        project = outside.adopt_stack(
            admin,
            environment,
            name,
            compose_yaml=body.get("compose"),
            env_text=body.get("env"),
            owner=owner,
            request=request,
        )
        return Response(shown(request, project), status=status.HTTP_201_CREATED)
