"""Celery tasks: the beat check of running tunnels."""

from __future__ import annotations

from dockpilot.celery import app

from . import services


@app.task(name="apps.tunnels.tasks.check_tunnels", ignore_result=True)
def check_tunnels() -> int:
    """Tear down tunnels of removed containers, restart dropped ones."""
    services.forget_removed_targets()
    return services.check_tunnels()
