"""``/ws/containers/<id>/logs/``: a container's log, live, with its recent past.

Options (query string): ``tail`` (default 200), ``since``, ``timestamps``,
``stdout``, ``stderr``, ``environment``. Messages: ``log`` with a list of
``lines`` (``missed`` when the client fell behind and lines were skipped),
``event`` when the container stops or starts again, ``end`` when it is
removed.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dockpilot.errors import BadRequest

from ..api.serializers.containers import LogsQuerySerializer
from ..engine import engine_for
from ..logs import LogLine
from ..streams import LogBatch, LogProducer, Watcher, read_history, watching
from ..timeparse import to_unix
from .base import StreamConsumer, ws_setting

# Lines per message: big enough to carry a fast log, small enough that a
# page renders a message without a pause.
MESSAGE_LINES = 2000
MAX_TAIL = 10_000_000


class LogsStreamQuerySerializer(LogsQuerySerializer):
    # Higher than the REST cap: history goes out in batches within the
    # client's window, so even a whole log never sits in memory at once.
    tail = serializers.IntegerField(min_value=0, max_value=MAX_TAIL, default=200)
    until = None  # type: ignore[assignment]  # a followed log has no end


def _check(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        raise BadRequest(f"{field}: {errors[0]}", details={"field": field})
    return dict(serializer.validated_data)


class LogsConsumer(StreamConsumer):
    action = "logs"

    def parse_options(self, query: dict[str, str]) -> dict[str, Any]:
        options = _check(LogsStreamQuerySerializer(data=query))
        options["since"] = to_unix("since", options.get("since"))
        options["streams"] = {name for name in ("stdout", "stderr") if options[name]}
        return options

    async def stream(self) -> None:
        engine = engine_for(self.environment)
        watcher = Watcher(
            int(ws_setting("WS_BUFFER_LINES", 10000)),
            int(ws_setting("WS_BUFFER_BYTES", 1024 * 1024)),
        )
        key = ("logs", self.environment.pk, self.container.id)
        async with watching(key, LogProducer(engine, self.container.id), watcher):
            # Joined before the history is read: live lines wait in the
            # buffer, and those the history already holds are dropped.
            self.floor = await self._send_history(engine)
            await self._pump(watcher)

    async def _send_history(self, engine: Any) -> str:
        last = ""
        if self.options["tail"] == 0:
            return last
        async for lines in read_history(
            engine,
            self.container.id,
            tail=self.options["tail"],
            since=self.options["since"],
            tty=self.container.tty,
        ):
            last = lines[-1].timestamp or last
            await self._send_lines(lines, 0)
        return last

    async def _pump(self, watcher: Watcher) -> None:
        while True:
            items, missed, ended = await watcher.take()
            lines: list[LogLine] = []
            for kind, body in items:
                if kind == "lines":
                    lines.extend(self._after_floor(body))
                    continue
                missed = await self._send_lines(lines, missed)
                lines = []
                await self.send_message(kind, body)
            await self._send_lines(lines, missed)
            if ended is not None:
                await self.finish(ended)
                return

    def _after_floor(self, batch: LogBatch) -> list[LogLine]:
        if not self.floor:
            return batch.lines
        kept = [line for line in batch.lines if line.timestamp > self.floor]
        if len(kept) == len(batch.lines):
            self.floor = ""
        return kept

    async def _send_lines(self, lines: list[LogLine], missed: int) -> int:
        """Send lines (and the count missed before them); 0 once told."""
        wanted = self.options["streams"]
        stamps = self.options["timestamps"]
        shaped = [_shape(line, stamps) for line in lines if line.stream in wanted]
        if not shaped and not missed:
            return missed
        for start in range(0, max(len(shaped), 1), MESSAGE_LINES):
            body: dict[str, Any] = {"lines": shaped[start : start + MESSAGE_LINES]}
            if missed:
                body["missed"], missed = missed, 0
            await self.send_message("log", body)
        return 0


def _shape(line: LogLine, stamps: bool) -> dict[str, Any]:
    shaped: dict[str, Any] = {"stream": line.stream, "text": line.text}
    if stamps:
        shaped["timestamp"] = line.timestamp
    if line.cut:
        shaped["cut"] = line.cut
    return shaped
