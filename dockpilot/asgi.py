"""ASGI entry point for Daphne: HTTP through Django, WebSockets through Channels."""

import os

from dockpilot.handler import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dockpilot.settings.dev")

# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from apps.accounts.setup import prepare_first_run  # noqa: E402
from apps.containers.readiness import report_engine  # noqa: E402
from dockpilot.routing import websocket_application  # noqa: E402

prepare_first_run()
report_engine()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application(),
    }
)
