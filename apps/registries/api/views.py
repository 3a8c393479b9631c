"""CRUD of registry credentials; the secret is write-only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import acting_user
from apps.audit.models import Action
from dockpilot.errors import NotFound
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from .. import services
from ..models import RegistryCredential
from .serializers import CredentialSerializer, CredentialWriteSerializer

CREDENTIAL_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class RegistryCredentialViewSet(PortalViewSet):
    audit_resource_type = "registry"
    audit_actions = {
        "create": Action.REGISTRY_CREATE,
        "update": Action.REGISTRY_UPDATE,
        "partial_update": Action.REGISTRY_UPDATE,
        "destroy": Action.REGISTRY_DELETE,
    }

    def _get(self, pk: str) -> RegistryCredential:
        queryset = services.visible_credentials(acting_user(self.request))
        credential = queryset.filter(pk=pk).first() if pk.isdigit() else None
        if credential is None:
            raise NotFound(f"registry credential '{pk}' does not exist.")
        return credential

    def _body(self, partial: bool) -> dict:
        serializer = CredentialWriteSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(responses=CredentialSerializer(many=True))
    def list(self, request: Request) -> Response:
        queryset = services.visible_credentials(acting_user(request))
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(
            CredentialSerializer(page, many=True).data
        )

    @extend_schema(parameters=[CREDENTIAL_ID], responses=CredentialSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(CredentialSerializer(self._get(pk)).data)

    @extend_schema(request=CredentialWriteSerializer, responses=CredentialSerializer)
    def create(self, request: Request) -> Response:
        credential = services.create_credential(
            acting_user(request), self._body(partial=False), request=request
        )
        return Response(
            CredentialSerializer(credential).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[CREDENTIAL_ID],
        request=CredentialWriteSerializer,
        responses=CredentialSerializer,
    )
    def update(self, request: Request, pk: str) -> Response:
        credential = self._get(pk)
        data = self._body(partial=False)
        updated = services.update_credential(credential, data, request=request)
        return Response(CredentialSerializer(updated).data)

    @extend_schema(
        parameters=[CREDENTIAL_ID],
        request=CredentialWriteSerializer,
        responses=CredentialSerializer,
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        credential = self._get(pk)
        data = self._body(partial=True)
        updated = services.update_credential(credential, data, request=request)
        return Response(CredentialSerializer(updated).data)

    @extend_schema(parameters=[CREDENTIAL_ID])
    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_credential(self._get(pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
