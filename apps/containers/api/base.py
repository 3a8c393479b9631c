"""Shared behaviour of the Docker endpoints: environment, queries, pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.permissions import acting_user
from dockpilot.pagination import Pagination
from dockpilot.views import PortalViewSet

from ..models import Environment

ENVIRONMENT_PARAM = OpenApiParameter(
    "environment",
    OpenApiTypes.STR,
    description="Environment name or id; the default environment when left out.",
)


class DockerViewSet(PortalViewSet):
    """A ViewSet over one environment's engine resources.

    Before any handler runs, ``initial`` asks the access module about the
    action: ``access_rules`` maps each action to the verb it needs, on the
    environment (collection actions) or on the resource named in the URL
    (detail actions, for ``resource_kind``). An action without a rule is
    refused, so a new action cannot slip through unchecked. The resource is
    resolved to its engine id first; handlers act on ``self.target``, so a
    name that changes hands between the check and the action cannot
    redirect it.
    """

    # The role and the grants decide inside the access module, which must
    # see the object first: a viewer asking to stop a container they cannot
    # see gets 404, not the role's 403.
    permission_classes = [IsAuthenticated]
    resource_kind = access.IMAGE
    access_rules: dict[str, str] = {}
    environment_actions: tuple[str, ...] = ("list", "create", "prune")

    # Names may hold dots, but "." and ".." are no resource's name: passed on,
    # they would climb the engine's URL to another endpoint.
    lookup_value_regex = r"(?!\.\.?(?:/|$))[^/]+"

    _environment: Environment | None = None
    target: str = ""
    # The engine's document of the target, read by the access check
    # (containers, volumes, networks; None for images).
    target_document: dict[str, Any] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.authorize(kwargs.get("pk"))

    def authorize(self, ident: str | None) -> None:
        action = self.action
        if action is None or action == "metadata":
            # A method the route does not take (the handler says 405), or
            # OPTIONS, which describes the route and touches no resource.
            return
        verb = self.access_rules.get(action)
        if verb is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.{action} has no entry in access_rules"
            )

        user = acting_user(self.request)
        environment = self.environment()
        if ident is None or action in self.environment_actions:
            access.require_environment(user, environment, verb)
            return
        if self.resource_kind == access.IMAGE:
            self.target = access.check(user, environment, access.IMAGE, ident, verb)
            return
        self.target_document = access.check_inspected(
            user, environment, self.resource_kind, ident, verb
        )
        self.target = access.engine_id_of(self.resource_kind, self.target_document)

    def environment(self) -> Environment:
        """The request's environment, if the user may see it (else 404)."""
        if self._environment is None:
            self._environment = access.environment_for(
                self.request.user, self.request.query_params.get("environment")
            )
        return self._environment

    def visible_only(
        self, items: list[dict[str, Any]], key: str = "id"
    ) -> list[dict[str, Any]]:
        return access.filter_visible(
            self.request.user, self.environment(), self.resource_kind, items, key
        )

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
