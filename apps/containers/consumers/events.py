"""``/ws/events/``: the environment's engine events, as the user may see them.

``event`` messages carry ``kind`` (container, image, network, volume, or
``engine`` when the engine is lost or back), ``action``, ``id``, ``name``
and ``attributes``. The stream survives engine restarts: it reconnects and
resumes after the last event it saw.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from ..engine import engine_for
from ..streams import EventProducer, Watcher, watching
from .base import StreamConsumer, event_visible


class EventsConsumer(StreamConsumer):
    action = "events"
    needs_container = False

    async def stream(self) -> None:
        engine = engine_for(self.environment)
        watcher = Watcher(max_count=1000, max_bytes=1024 * 1024)
        key = ("events", self.environment.pk)
        async with watching(key, EventProducer(engine), watcher):
            while True:
                items, missed, ended = await watcher.take()
                for kind, body in items:
                    if await database_sync_to_async(event_visible)(
                        self.user, self.environment, body
                    ):
                        extra = {"missed": missed} if missed else {}
                        missed = 0
                        await self.send_message(kind, {**body, **extra})
                if ended is not None:
                    await self.finish(ended)
                    return
