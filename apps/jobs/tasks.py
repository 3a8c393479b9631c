"""Celery tasks: run a job, and find jobs whose worker died."""

from __future__ import annotations

from typing import Any

from dockpilot.celery import app

from . import services


@app.task(name="apps.jobs.tasks.run_job", bind=True, ignore_result=True)
def run_job(self: Any, job_id: str) -> str | None:
    return services.execute(job_id, worker=self.request.hostname or "worker")


@app.task(name="apps.jobs.tasks.reap_lost_jobs", ignore_result=True)
def reap_lost_jobs() -> int:
    return services.reap_lost_jobs()
