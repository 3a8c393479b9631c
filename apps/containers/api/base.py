"""Shared behaviour of the Docker endpoints: environment, queries, pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from ..environments import resolve_environment
from ..models import Environment

ENVIRONMENT_PARAM = OpenApiParameter(
    "environment",
    OpenApiTypes.STR,
    description="Environment name or id; the default environment when left out.",
)


class DockerViewSet(PortalViewSet):
    """A ViewSet over one environment's engine resources."""

    # Names may hold dots, but "." and ".." are no resource's name: passed on,
    # they would climb the engine's URL to another endpoint.
    lookup_value_regex = r"(?!\.\.?(?:/|$))[^/]+"

    def environment(self) -> Environment:
        return resolve_environment(self.request.query_params.get("environment"))

    def query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def body(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data, context={"request": self.request}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginated(self, request: Request, items: list[Any]) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(items, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(page)
