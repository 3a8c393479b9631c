"""``/ws/jobs/<id>/``: a job's progress and output as they happen.

The database is the source of truth: the consumer sends the chunks numbered
above the last one the client has (``?after=N`` to resume) and the job's
status, then waits. A worker's wake-up through the channel layer ends the
wait early; without a shared layer (the embedded mode) the wait times out
and the consumer looks again, so no message is ever only in the layer.

Messages sent: ``{"type": "status", ...job}``, ``{"type": "output", "seq",
"text", "events"}`` and, once the job has ended and all output is out,
``{"type": "end", ...job}``, after which the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.ws_auth import CLOSE_UNAUTHENTICATED, SUBPROTOCOL, first_message_user

from .api.serializers import JobOutputSerializer, JobSerializer
from .permissions import visible_jobs
from .services import group_name

logger = logging.getLogger("dockpilot.jobs.consumers")

CLOSE_NOT_FOUND = 4404
AUTH_WAIT_SECONDS = 10
POLL_SECONDS = 1.0
BATCH = 200


def _after(scope: dict[str, Any]) -> int:
    query = parse_qs(scope.get("query_string", b"").decode())
    value = (query.get("after") or ["0"])[0]
    return int(value) if value.isdigit() else 0


@database_sync_to_async
def _snapshot(user: Any, job_id: str, after: int) -> tuple[Any, Any]:
    try:
        job = visible_jobs(user).filter(pk=job_id).first()
    except Exception:  # not a UUID
        job = None
    if job is None:
        return None, []
    chunks = job.output.filter(seq__gt=after).order_by("seq")[:BATCH]
    return JobSerializer(job).data, JobOutputSerializer(chunks, many=True).data


class JobConsumer(AsyncJsonWebsocketConsumer):
    """Follows one job for one client until the job ends or the client leaves."""

    async def connect(self) -> None:
        self.job_id = str(self.scope["url_route"]["kwargs"]["job_id"])
        self.after = _after(self.scope)
        self.wake_event = asyncio.Event()
        self.pump: asyncio.Task[None] | None = None
        self.auth_timer: asyncio.Task[None] | None = None
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self._start(user)
        elif self.scope.get("auth_failed"):
            await self._refuse_auth()
        else:
            self.auth_timer = asyncio.create_task(self._auth_deadline())

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.pump is not None:
            return  # nothing to say once following; resume by reconnecting
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        user = await first_message_user(content)
        if user is None:
            await self._refuse_auth()
            return
        after = content.get("after") if isinstance(content, dict) else None
        if isinstance(after, int) and after >= 0:
            self.after = after
        await self._start(user)

    async def disconnect(self, code: int) -> None:
        for task in (self.pump, self.auth_timer):
            if task is not None:
                task.cancel()
        if self.pump is not None:
            await self.channel_layer.group_discard(
                group_name(self.job_id), self.channel_name
            )

    async def job_wake(self, event: dict[str, Any]) -> None:
        self.wake_event.set()

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(AUTH_WAIT_SECONDS)
        await self._refuse_auth()

    async def _refuse_auth(self) -> None:
        await self.send_json(
            {
                "type": "error",
                "code": "not_authenticated",
                "message": 'Log in, or send {"type": "auth", "token": "<JWT>"} first.',
            }
        )
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _start(self, user: Any) -> None:
        job, _ = await _snapshot(user, self.job_id, self.after)
        if job is None:
            await self.send_json(
                {
                    "type": "error",
                    "code": "job_not_found",
                    "message": f"job '{self.job_id}' does not exist.",
                }
            )
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        await self.channel_layer.group_add(group_name(self.job_id), self.channel_name)
        self.pump = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        last_status: tuple[Any, ...] | None = None
        try:
            while True:
                self.wake_event.clear()
                job, chunks = await _snapshot(self.user, self.job_id, self.after)
                if job is None:  # deleted, or no longer visible
                    await self.close(code=CLOSE_NOT_FOUND)
                    return
                for chunk in chunks:
                    await self.send_json({"type": "output", **chunk})
                    self.after = chunk["seq"]
                state = (job["status"], job["progress"], job["output_chunks"])
                if state != last_status:
                    last_status = state
                    await self.send_json({"type": "status", **job})
                if len(chunks) == BATCH:
                    continue
                if job["finished_at"] and self.after >= job["output_chunks"]:
                    await self.send_json({"type": "end", **job})
                    await self.close()
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake_event.wait(), POLL_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("following job %s failed", self.job_id)
            await self.close(code=1011)
