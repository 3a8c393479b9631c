"""Admin endpoints for users, teams, grants and the ownership of resources."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import Action
from apps.containers.models import ResourceOwnership
from dockpilot.errors import NotFound
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from ..access import AccessDenied
from ..models import Team, User
from ..permissions import AdminOnly, acting_user
from ..services import grants as grant_services
from ..services import users as user_services
from .serializers import (
    GrantSerializer,
    OwnershipSerializer,
    PasswordResetSerializer,
    TeamSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)


def _detail(description: str, *actions: str) -> Any:
    """The path parameter of detail actions, which have no queryset to type it."""
    parameter = OpenApiParameter(
        "id", str, OpenApiParameter.PATH, description=description
    )
    return extend_schema_view(
        **{action: extend_schema(parameters=[parameter]) for action in actions}
    )


def _valid(serializer_class: type, data: Any, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _page(view: PortalViewSet, request: Request, items: Any) -> Response:
    paginator = Pagination()
    page: Any = paginator.paginate_queryset(items, request, view=view)  # type: ignore[arg-type]
    return paginator.get_paginated_response(page)


def find_user(ident: str) -> User:
    lookup = {"pk": int(ident)} if ident.isdigit() else {"username": ident}
    user = User.objects.filter(**lookup).first()
    if user is None:
        raise NotFound(f"user '{ident}': no such user.", code="user_not_found")
    return user


def find_team(ident: str) -> Team:
    lookup = {"pk": int(ident)} if ident.isdigit() else {"name": ident}
    team = Team.objects.filter(**lookup).first()
    if team is None:
        raise NotFound(f"team '{ident}': no such team.", code="team_not_found")
    return team


@_detail(
    "The user's id or username.",
    "retrieve",
    "partial_update",
    "destroy",
    "reset_password",
)
class UserViewSet(PortalViewSet):
    permission_classes = [AdminOnly]
    audit_resource_type = "user"
    audit_actions = {
        "create": Action.USER_CREATE,
        "partial_update": Action.USER_UPDATE,
        "destroy": Action.USER_DELETE,
        "reset_password": Action.USER_PASSWORD_RESET,
    }

    @extend_schema(responses=UserSerializer(many=True))
    def list(self, request: Request) -> Response:
        users = list(User.objects.all())
        return _page(self, request, UserSerializer(users, many=True).data)

    @extend_schema(responses=UserSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(UserSerializer(find_user(pk)).data)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(UserCreateSerializer, request.data)
        user = user_services.create_user(request, data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = _valid(UserUpdateSerializer, request.data)
        user = user_services.update_user(request, find_user(pk), data)
        return Response(UserSerializer(user).data)

    def destroy(self, request: Request, pk: str) -> Response:
        user_services.delete_user(request, acting_user(request), find_user(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PasswordResetSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request: Request, pk: str) -> Response:
        password = _valid(PasswordResetSerializer, request.data)["password"]
        user_services.reset_password(request, find_user(pk), password)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_detail("The team's id or name.", "retrieve", "partial_update", "destroy")
class TeamViewSet(PortalViewSet):
    permission_classes = [AdminOnly]
    audit_resource_type = "team"
    audit_actions = {
        "create": Action.TEAM_CREATE,
        "partial_update": Action.TEAM_UPDATE,
        "destroy": Action.TEAM_DELETE,
    }

    @extend_schema(responses=TeamSerializer(many=True))
    def list(self, request: Request) -> Response:
        teams = list(Team.objects.prefetch_related("user_set"))
        return _page(self, request, TeamSerializer(teams, many=True).data)

    @extend_schema(responses=TeamSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TeamSerializer(find_team(pk)).data)

    @extend_schema(request=TeamSerializer, responses={201: TeamSerializer})
    def create(self, request: Request) -> Response:
        team = user_services.create_team(request, _valid(TeamSerializer, request.data))
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TeamSerializer, responses=TeamSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = _valid(TeamSerializer, request.data, partial=True)
        team = user_services.update_team(request, find_team(pk), data)
        return Response(TeamSerializer(team).data)

    def destroy(self, request: Request, pk: str) -> Response:
        user_services.delete_team(request, find_team(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@_detail("The grant's id, such as u12 or t3.", "destroy")
class GrantViewSet(PortalViewSet):
    """Admins grant anything; others pass on only what they hold."""

    permission_classes = [IsAuthenticated]
    audit_resource_type = "grant"
    audit_actions = {"create": Action.GRANT_CREATE, "destroy": Action.GRANT_DELETE}
    lookup_value_regex = r"[^/]+"

    def list(self, request: Request) -> Response:
        return _page(self, request, grant_services.list_grants(acting_user(request)))

    @extend_schema(request=GrantSerializer)
    def create(self, request: Request) -> Response:
        actor = acting_user(request)
        if not actor.can_change:
            raise AccessDenied("Your role may only read; it cannot grant.")
        data = _valid(GrantSerializer, request.data)
        target = grant_services.find_target(
            actor, data["object_type"], data.get("environment"), data["object_id"]
        )
        granted = grant_services.grant(
            request,
            actor,
            target,
            data["permission"],
            user=find_user(data["user"]) if "user" in data else None,
            team=find_team(data["team"]) if "team" in data else None,
        )
        return Response(granted, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        grant_services.revoke(request, acting_user(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _ownership_body(row: ResourceOwnership) -> dict[str, Any]:
    return {
        "id": row.pk,
        "object_type": row.kind,
        "environment": row.environment.name,
        "object_id": row.engine_id,
        "object_name": row.name,
        **grant_services.ownership_state(row),
    }


@_detail("The ownership record's id.", "destroy")
class OwnershipViewSet(PortalViewSet):
    """Which user or team owns which Docker resource; admins assign."""

    permission_classes = [AdminOnly]
    audit_resource_type = "ownership"
    audit_actions = {
        "create": Action.OWNERSHIP_ASSIGN,
        "destroy": Action.OWNERSHIP_DELETE,
    }

    def list(self, request: Request) -> Response:
        rows = ResourceOwnership.objects.select_related(
            "environment", "owner_user", "owner_team"
        )
        return _page(self, request, [_ownership_body(row) for row in rows])

    @extend_schema(request=OwnershipSerializer)
    def create(self, request: Request) -> Response:
        data = _valid(OwnershipSerializer, request.data)
        target = grant_services.find_target(
            acting_user(request),
            data["object_type"],
            data.get("environment"),
            data["object_id"],
        )
        row = grant_services.assign_owner(
            request,
            acting_user(request),
            target,
            user=find_user(data["owner_user"]) if data.get("owner_user") else None,
            team=find_team(data["owner_team"]) if data.get("owner_team") else None,
        )
        return Response(_ownership_body(row), status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        row = ResourceOwnership.objects.filter(pk=pk if pk.isdigit() else -1).first()
        if row is None:
            raise NotFound(f"ownership {pk}: no such record.")
        grant_services.release(request, row)
        return Response(status=status.HTTP_204_NO_CONTENT)
