"""OpenAPI generation for views that answer with engine documents.

The Docker endpoints return shaped engine data rather than model
serializers; without a declared serializer they are documented as a JSON
object (request bodies are declared per action with ``extend_schema``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from rest_framework.generics import GenericAPIView


class PortalAutoSchema(AutoSchema):
    def _declares_serializer(self) -> bool:
        view = self.view
        return isinstance(view, GenericAPIView) or hasattr(view, "serializer_class")

    def _is_list_view(self, serializer: Any = None) -> bool:
        if not self._declares_serializer():
            return getattr(self.view, "action", None) == "list"
        return super()._is_list_view(serializer)

    def get_request_serializer(self) -> Any:
        return super().get_request_serializer() if self._declares_serializer() else None

    def get_response_serializers(self) -> Any:
        if self._declares_serializer():
            return super().get_response_serializers()
        return OpenApiTypes.OBJECT
