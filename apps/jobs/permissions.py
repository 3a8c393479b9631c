"""Who may see and cancel a job.

Seeing is decided by ``apps.accounts.access`` (users see their own jobs
and those of the Compose projects they may see, admins every job); the
REST API, the WebSocket, the pages and the admin ask through here.
Canceling stays with whoever started the job, and admins.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.accounts import access

from .models import Job


def visible_jobs(user: Any) -> QuerySet[Job]:
    """The jobs ``user`` may see; an anonymous or inactive user sees none."""
    return access.visible_jobs(user)


def can_cancel(user: Any, job: Job) -> bool:
    return bool(getattr(user, "is_admin", False) or job.user_id == user.pk)
