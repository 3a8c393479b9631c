"""Saying at start-up whether the default engine answers."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from dockpilot.errors import PortalError

from .engine import engine_for, translate_errors
from .environments import default_environment

logger = logging.getLogger("dockpilot.containers.readiness")


def report_engine() -> bool:
    """Log whether the engine is reachable; the portal starts either way."""
    try:
        engine = engine_for(default_environment())
        with translate_errors(engine):
            version = engine.version()
    except PortalError as exc:
        logger.warning(
            "%s The portal runs; Docker endpoints answer 503 until then.", exc.detail
        )
        return False
    except DatabaseError:
        logger.warning("database not ready (run migrations)")
        return False
    logger.info(
        "Docker engine %s (API %s) at %s",
        version.get("Version"),
        version.get("ApiVersion"),
        engine.endpoint,
    )
    return True
