"""REST endpoints for environments: everyone lists them, admins change them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.permissions import AdminOnly, RolePermission
from apps.audit.models import Action
from dockpilot.views import AuditedMixin

from .. import policy
from ..models import Environment
from ..services import environments as service

ENDPOINT_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")


class EnvironmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Environment
        fields = [
            "id",
            "name",
            "endpoint",
            "is_default",
            "status",
            "last_seen",
            "last_error",
            "policy_allow",
            "created_at",
        ]
        read_only_fields = ["id", "status", "last_seen", "last_error", "created_at"]

    def validate_endpoint(self, value: str) -> str:
        if value and not value.startswith(ENDPOINT_SCHEMES):
            raise serializers.ValidationError(
                "Use unix:///path/docker.sock, tcp://host:port or ssh://user@host, "
                "or leave it empty for this machine's engine."
            )
        return value

    def validate_policy_allow(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError("Give a list of policy items.")
        unknown = policy.unknown_items(value)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown policy items: {', '.join(unknown)}; see "
                "apps/containers/policy.py for the forms, such as cap_add:NET_ADMIN."
            )
        return sorted(set(value))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field."] for key in unknown}
                )
        return super().to_internal_value(data)


class EnvironmentViewSet(AuditedMixin, viewsets.ModelViewSet):
    """Everyone lists the environments granted to them; admins change them.

    Changing one stays with admins whatever the grants: its endpoint and
    policy exceptions decide what the whole engine exposes.
    """

    serializer_class = EnvironmentSerializer
    queryset = Environment.objects.all()
    audit_resource_type = "environment"
    audit_actions = {
        "create": Action.ENVIRONMENT_CREATE,
        "update": Action.ENVIRONMENT_UPDATE,
        "partial_update": Action.ENVIRONMENT_UPDATE,
        "destroy": Action.ENVIRONMENT_DELETE,
    }

    def get_queryset(self) -> QuerySet[Environment]:
        return access.visible_environments(self.request.user)

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve"):
            return [RolePermission()]
        return [AdminOnly()]

    def check_permissions(self, request: Request) -> None:
        # An environment the user cannot see is not found, even for a change
        # only admins may make: look it up before the admin check says 403.
        if self.kwargs.get("pk") is not None and request.user.is_authenticated:
            self.get_object()
        super().check_permissions(request)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = service.create_environment(
            dict(serializer.validated_data), request=self.request
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = service.update_environment(
            self.get_object(), dict(serializer.validated_data), request=self.request
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service.delete_environment(self.get_object(), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
