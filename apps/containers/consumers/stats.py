"""``/ws/containers/<id>/stats/``: one sample a second, shared per container.

Each ``stats`` message has ``running``; a running container's carries CPU %,
memory (page cache left out), network (null without a network of its own),
block I/O and pids; a stopped one's says so, and samples resume when it
starts. ``end`` when the container is removed.
"""

from __future__ import annotations

from ..engine import engine_for
from ..streams import StatsProducer, Watcher, watching
from .base import StreamConsumer


class StatsConsumer(StreamConsumer):
    action = "stats"

    async def stream(self) -> None:
        engine = engine_for(self.environment)
        # Two samples at most: a client that falls behind gets the newest.
        watcher = Watcher(max_count=2, max_bytes=64 * 1024)
        key = ("stats", self.environment.pk, self.container.id)
        async with watching(key, StatsProducer(engine, self.container.id), watcher):
            while True:
                items, missed, ended = await watcher.take()
                if items:
                    kind, body = items[-1]
                    extra = {"missed": missed} if missed else {}
                    await self.send_message(kind, {**body, **extra})
                if ended is not None:
                    await self.finish(ended)
                    return
