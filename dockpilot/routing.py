"""WebSocket routes, all under /ws/. Each app adds its consumers here."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from django.urls import path, re_path

from apps.accounts.ws_auth import WebSocketAuthMiddlewareStack
from apps.containers import consumers as containers
from apps.jobs.consumers import JobConsumer
from dockpilot.origins import SameOriginValidator

# A container is named by id or name, as in the REST API ("." and ".." are
# no container's name and would climb the engine's URL).
_CONTAINER = r"(?P<container_id>(?!\.\.?/)[A-Za-z0-9][A-Za-z0-9_.-]*)"

websocket_urlpatterns: list[Any] = [
    re_path(rf"^ws/containers/{_CONTAINER}/logs/$", containers.LogsConsumer.as_asgi()),
    re_path(
        rf"^ws/containers/{_CONTAINER}/stats/$", containers.StatsConsumer.as_asgi()
    ),
    re_path(rf"^ws/containers/{_CONTAINER}/exec/$", containers.ExecConsumer.as_asgi()),
    path("ws/events/", containers.EventsConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
]


def websocket_application() -> Any:
    """The WebSocket side of the portal: the page's origin is checked first,
    then the credential, then the route decides the consumer."""
    return SameOriginValidator(
        WebSocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    )
