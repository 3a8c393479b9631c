"""WebSocket routes, all under /ws/. Each app adds its consumers here."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
