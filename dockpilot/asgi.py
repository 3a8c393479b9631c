"""ASGI entry point served by Daphne: HTTP now, WebSockets as they are added."""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dockpilot.settings.dev")

django_asgi_app = get_asgi_application()

from apps.accounts.setup import prepare_first_run  # noqa: E402
from apps.containers.readiness import report_engine  # noqa: E402

logger = logging.getLogger("dockpilot.asgi")

prepare_first_run()
report_engine()

application = django_asgi_app
