"""REST endpoints for environments: everyone lists them, admins change them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import AdminOnly, RolePermission
from apps.audit.models import Action
from dockpilot.views import AuditedMixin

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

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field."] for key in unknown}
                )
        return super().to_internal_value(data)


class EnvironmentViewSet(AuditedMixin, viewsets.ModelViewSet):
    serializer_class = EnvironmentSerializer
    queryset = Environment.objects.all()
    audit_resource_type = "environment"
    audit_actions = {
        "create": Action.ENVIRONMENT_CREATE,
        "update": Action.ENVIRONMENT_UPDATE,
        "partial_update": Action.ENVIRONMENT_UPDATE,
        "destroy": Action.ENVIRONMENT_DELETE,
    }

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve"):
            return [RolePermission()]
        return [AdminOnly()]

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
