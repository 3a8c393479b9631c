"""The Celery application: workers run jobs, beat runs periodic work.

Configuration comes from Django settings prefixed ``CELERY_``; each app's
``tasks`` module is found by autodiscovery.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dockpilot.settings.dev")

app = Celery("dockpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
