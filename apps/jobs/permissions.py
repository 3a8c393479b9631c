"""Who may see and cancel a job.

The one place that decides it for the REST API, the WebSocket and the
admin: users see their own jobs, admins every job.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Job


def visible_jobs(user: Any) -> QuerySet[Job]:
    """The jobs ``user`` may see; an anonymous or inactive user sees none."""
    queryset = Job.objects.select_related("user", "environment")
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if getattr(user, "is_admin", False):
        return queryset
    return queryset.filter(user=user)


def can_cancel(user: Any, job: Job) -> bool:
    return bool(getattr(user, "is_admin", False) or job.user_id == user.pk)
