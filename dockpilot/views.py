"""API view base classes: every mutating request ends in an audit row.

Services write the audit row of a change they made. When a request is
refused before a service runs (bad input, missing permission, engine down),
the base class writes the failure row, so no refused change goes unrecorded.
"""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.models import Outcome
from apps.audit.services import record


class AuditedMixin:
    """Declare ``audit_actions`` (view action or HTTP method → audit action)."""

    audit_resource_type: str = ""
    audit_actions: dict[str, str] = {}

    def audit_action_for(self, request: Request) -> str | None:
        action = getattr(self, "action", None)
        method = request.method or ""
        return self.audit_actions.get(action or "") or self.audit_actions.get(method)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        if request.method not in SAFE_METHODS and response.status_code >= 400:
            self._audit_refusal(request, response, kwargs)
        return response

    def _audit_refusal(
        self, request: Request, response: Response, kwargs: dict[str, Any]
    ) -> None:
        if getattr(request._request, "audited", False):
            return
        action = self.audit_action_for(request)
        if action is None:
            return
        data = response.data if isinstance(response.data, dict) else {}
        # What the request named: the refusal row says what was tried.
        ident = str(kwargs.get("pk") or kwargs.get("id") or kwargs.get("name") or "")
        record(
            action,
            request=request,
            resource_type=self.audit_resource_type,
            resource_id=ident,
            resource_name=ident,
            outcome=Outcome.FAILURE,
            reason=str(data.get("message", f"HTTP {response.status_code}")),
            details={"status": response.status_code, "code": data.get("code", "")},
        )


class PortalViewSet(AuditedMixin, viewsets.ViewSet):
    """A ViewSet over engine resources (no Django queryset behind it)."""


class PortalAPIView(AuditedMixin, APIView):
    pass
