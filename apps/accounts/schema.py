"""How the OpenAPI schema describes the portal's authentication classes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (dpt_...) from /api/v1/auth/tokens/.",
        }


class PortalJWTScheme(SimpleJWTScheme):
    target_class = "apps.accounts.authentication.PortalJWTAuthentication"


class PortalSessionScheme(SessionScheme):
    target_class = "apps.accounts.authentication.PortalSessionAuthentication"
