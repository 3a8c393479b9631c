"""Engine streams shared by every WebSocket watcher in the process.

One followed log, one stats stream per container and one event stream per
environment are read from the engine however many people watch them; the
reader stops when the last watcher leaves. Each watcher has a bounded
buffer: one that cannot keep up loses its oldest items and is told how many
it missed, so memory never grows with the rate of the stream.

Everything here runs on the event loop of the web process; engine bytes
arrive through ``engine.open_stream`` (an asyncio socket), and the few
blocking calls (inspect) go through a thread.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson

from dockpilot.errors import EngineUnavailable, NotFound, PortalError

from .engine import Engine, RawResponse, open_stream
from .logs import LogFollower, LogLine
from .stats import summarize

logger = logging.getLogger("dockpilot.containers.streams")

# How often a stopped container is looked at again, to resume its streams
# when it starts; and the longest wait between two tries of a lost engine.
POLL_SECONDS = 1.0
LAST_LINES_SECONDS = 0.5
MAX_RECONNECT_SECONDS = 10.0

Item = tuple[str, Any]


class Watcher:
    """One socket's view of a shared stream: a bounded queue of items.

    Items carry a count (log lines) and a size in bytes. Pushing past either
    bound drops the oldest items, which ``missed`` counts until the next
    take: the watcher skips ahead instead of holding everything.
    """

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._items: deque[tuple[Item, int, int]] = deque()
        self._count = 0
        self._bytes = 0
        self.missed = 0
        self.ended: Item | None = None
        self._ready = asyncio.Event()

    @property
    def buffered(self) -> tuple[int, int]:
        """Items (by count) and bytes waiting: what a slow watcher costs."""
        return self._count, self._bytes

    def push(self, item: Item, count: int = 1, size: int = 0) -> None:
        while self._items and (
            self._count + count > self.max_count or self._bytes + size > self.max_bytes
        ):
            _, old_count, old_size = self._items.popleft()
            self._count -= old_count
            self._bytes -= old_size
            self.missed += old_count
        self._items.append((item, count, size))
        self._count += count
        self._bytes += size
        self._ready.set()

    def end(self, item: Item) -> None:
        self.ended = item
        self._ready.set()

    async def take(self) -> tuple[list[Item], int, Item | None]:
        """Wait for items; return them, how many were missed, and the end."""
        await self._ready.wait()
        self._ready.clear()
        items = [item for item, _, _ in self._items]
        missed, self.missed = self.missed, 0
        self._items.clear()
        self._count = self._bytes = 0
        return items, missed, self.ended


Producer = Callable[["SharedStream"], Awaitable[None]]


class SharedStream:
    """One engine stream and the watchers it feeds."""

    def __init__(self, hub: Hub, key: Hashable) -> None:
        self.hub = hub
        self.key = key
        self.watchers: set[Watcher] = set()
        self.task: asyncio.Task[None] | None = None
        # Told to a watcher when it joins: the last sample, or that the
        # container is stopped, so nobody waits a second to learn it.
        self.latest: Item | None = None

    def broadcast(self, item: Item, count: int = 1, size: int = 0) -> None:
        for watcher in self.watchers:
            watcher.push(item, count, size)

    def remember(self, item: Item) -> None:
        self.latest = item
        self.broadcast(item)

    def finish(self, item: Item) -> None:
        self.hub.forget(self)
        for watcher in self.watchers:
            watcher.end(item)

    async def run(self, produce: Producer) -> None:
        try:
            await produce(self)
        except PortalError as exc:
            self.finish(("error", {"code": exc.code, "message": str(exc.detail)}))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("stream %s crashed", self.key)
            self.finish(
                ("error", {"code": "internal", "message": "The stream failed."})
            )


class Hub:
    """The shared streams of one event loop, by key."""

    def __init__(self) -> None:
        self._streams: dict[Hashable, SharedStream] = {}

    def join(self, key: Hashable, produce: Producer, watcher: Watcher) -> SharedStream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = SharedStream(self, key)
            stream.task = asyncio.create_task(stream.run(produce))
            logger.debug("opened engine stream %s", key)
        stream.watchers.add(watcher)
        if stream.latest is not None:
            watcher.push(stream.latest)
        return stream

    def leave(self, stream: SharedStream, watcher: Watcher) -> None:
        stream.watchers.discard(watcher)
        if stream.watchers:
            return
        self.forget(stream)
        if stream.task is not None and not stream.task.done():
            stream.task.cancel()
            logger.debug("closed engine stream %s", stream.key)

    def forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]

    def open_streams(self) -> list[Hashable]:
        return list(self._streams)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = (
    weakref.WeakKeyDictionary()
)


def hub() -> Hub:
    """The hub of the running event loop (Daphne runs one per process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found


# --- Reading the engine ------------------------------------------------------


async def inspect(engine: Engine, container: str) -> dict[str, Any] | None:
    """The container's inspect document, or None once it is removed."""
    try:
        return await asyncio.to_thread(
            engine.get_json, "/containers/{0}/json", container
        )
    except NotFound:
        return None


async def read_body(response: RawResponse) -> Any:
    """Iterate over the body of an engine answer; stop when it is cut."""
    try:
        while data := await response.read():
            yield data
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        logger.info("engine stream cut: %s", exc)
    finally:
        response.close()


async def json_lines(response: RawResponse) -> Any:
    """Documents of a newline-delimited JSON stream (stats, events)."""
    pending = b""
    async for data in read_body(response):
        pending += data
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield orjson.loads(line)


def _running(document: dict[str, Any]) -> bool:
    return bool((document.get("State") or {}).get("Running"))


def _run_of(document: dict[str, Any]) -> str:
    """Which run of the container this is: its last start time."""
    return str((document.get("State") or {}).get("StartedAt", ""))


def name_of(document: dict[str, Any]) -> str:
    return str(document.get("Name", "")).lstrip("/")


def _removed(document_name: str) -> Item:
    return (
        "end",
        {"reason": "removed", "message": f"container '{document_name}' was removed."},
    )


def _stopped(document: dict[str, Any]) -> dict[str, Any]:
    state = document.get("State") or {}
    return {
        "running": False,
        "state": state.get("Status", "exited"),
        "exit_code": state.get("ExitCode"),
        "message": (
            f"container '{name_of(document)}' is {state.get('Status', 'stopped')}: "
            "the stream resumes when it starts again."
        ),
    }


async def wait_until_running(engine: Engine, container: str) -> dict[str, Any] | None:
    """Poll a stopped container until it runs; None when it is removed.

    Bounded by its watchers: the stream's task is cancelled when the last
    one leaves.
    """
    while True:
        document = await inspect(engine, container)
        if document is None or (document.get("State") or {}).get("Running"):
            return document
        await asyncio.sleep(POLL_SECONDS)


# --- Followed logs -------------------------------------------------------------


def after(stamp: str) -> str:
    """The engine's ``since`` for "just after this RFC 3339 timestamp"."""
    head, _, fraction = stamp.removesuffix("Z").partition(".")
    seconds = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
    nanos = int((fraction + "000000000")[:9]) + 1
    return f"{seconds + nanos // 10**9}.{nanos % 10**9:09d}"


@dataclass
class LogBatch:
    """Lines of one engine read, shared by every watcher it is pushed to."""

    lines: list[LogLine]
    size: int


def batch_of(lines: list[LogLine]) -> LogBatch:
    return LogBatch(lines, sum(len(line.text) + 64 for line in lines))


# With ``since`` alone the engine reads a log file from its first line to
# find where to start; a ``tail`` bound makes it read from the end. A follow
# resumes at most a few seconds back, so this many lines always reach it.
RESUME_TAIL_LINES = 10000


def log_params(resume: str) -> dict[str, Any]:
    return {
        "follow": 1,
        "stdout": 1,
        "stderr": 1,
        "timestamps": 1,
        "since": resume,
        "tail": RESUME_TAIL_LINES,
    }


class LogProducer:
    """Follows one container's log across restarts until it is removed.

    Every read asks for the lines after ``resume``: at first the moment the
    producer was made, then just after the last line it passed on. Lines
    carry the engine's timestamps, so a watcher's history meets the live
    lines without a gap, and a follow reopened after a restart starts right
    after what was already sent, even when the new run printed before the
    reopen.

    Known shortcoming: the first ``resume`` is the portal's clock. With a
    remote engine whose clock runs behind the portal's, lines printed in
    that difference just after the first watcher joined are missed; ahead,
    a watcher that asked for no history also gets lines from just before
    it joined.
    """

    def __init__(self, engine: Engine, container: str) -> None:
        self.engine = engine
        self.container = container
        self.resume = f"{time.time():.9f}"

    async def __call__(self, stream: SharedStream) -> None:
        document = await inspect(self.engine, self.container)
        name = name_of(document or {}) or self.container
        while document is not None:
            run = _run_of(document)
            try:
                await self._follow(stream, document)
            except NotFound:
                break
            document = await inspect(self.engine, self.container)
            if document is None:
                break
            if not _running(document):
                stream.remember(("event", {"action": "stop", **_stopped(document)}))
                document = await wait_until_running(self.engine, self.container)
                if document is None:
                    break
                stream.latest = None
                stream.broadcast(("event", {"action": "start", "running": True}))
            elif _run_of(document) != run:
                stream.broadcast(("event", {"action": "restart", "running": True}))
                # A follow opened while the new run's log is being set up can
                # miss its first lines: give the engine a moment first.
                await asyncio.sleep(LAST_LINES_SECONDS)
            else:
                # Cut while running (engine restart, network): try again soon.
                await asyncio.sleep(POLL_SECONDS)
        stream.finish(_removed(name))

    async def _follow(self, stream: SharedStream, document: dict[str, Any]) -> None:
        response = await open_stream(
            self.engine,
            "GET",
            "/containers/{0}/logs",
            self.container,
            params=log_params(self.resume),
        )
        tty = bool((document.get("Config") or {}).get("Tty"))
        reader = asyncio.create_task(self._read(stream, response, tty))
        watchdog = asyncio.create_task(self._watch(_run_of(document)))
        try:
            await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
            if not reader.done():
                # The run ended: let the last lines in flight arrive first.
                await asyncio.wait({reader}, timeout=LAST_LINES_SECONDS)
        finally:
            reader.cancel()
            watchdog.cancel()
            response.close()

    async def _read(
        self, stream: SharedStream, response: RawResponse, tty: bool
    ) -> None:
        follower = LogFollower(tty=tty, timestamps=True)
        async for data in read_body(response):
            self._send(stream, follower.feed(data))
        self._send(stream, follower.flush())

    async def _watch(self, run: str) -> None:
        # The engine does not always end a followed log when its container
        # stops or restarts (it may wait on the old run's file forever), so
        # the run is watched beside the read: inspect costs well under 1 ms.
        while True:
            await asyncio.sleep(POLL_SECONDS)
            document = await inspect(self.engine, self.container)
            if document is None or not _running(document) or _run_of(document) != run:
                return

    def _send(self, stream: SharedStream, lines: list[LogLine]) -> None:
        if not lines:
            return
        self.resume = after(lines[-1].timestamp) if lines[-1].timestamp else self.resume
        batch = batch_of(lines)
        stream.broadcast(("lines", batch), count=len(lines), size=batch.size)


async def read_history(
    engine: Engine,
    container: str,
    *,
    tail: int,
    since: int | None,
    tty: bool,
) -> Any:
    """Batches of a container's past lines, read as they arrive (bounded)."""
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": tail}
    if since is not None:
        params["since"] = since
    response = await open_stream(
        engine, "GET", "/containers/{0}/logs", container, params=params
    )
    follower = LogFollower(tty=tty, timestamps=True)
    async for data in read_body(response):
        if lines := follower.feed(data):
            yield lines
    if lines := follower.flush():
        yield lines


# --- Stats ---------------------------------------------------------------------


def _sample_of_stopped(sample: dict[str, Any]) -> bool:
    # A stopped container's stats stream sends empty samples stamped with
    # the zero time instead of ending.
    return str(sample.get("read", "")).startswith("0001-")


class StatsProducer:
    """One sample a second from the engine's own stats stream."""

    def __init__(self, engine: Engine, container: str) -> None:
        self.engine = engine
        self.container = container

    async def __call__(self, stream: SharedStream) -> None:
        document = await inspect(self.engine, self.container)
        name = name_of(document or {}) or self.container
        while document is not None:
            if not (document.get("State") or {}).get("Running"):
                stream.remember(("stats", _stopped(document)))
                document = await wait_until_running(self.engine, self.container)
                continue
            try:
                await self._follow(stream, document)
            except NotFound:
                break
            document = await inspect(self.engine, self.container)
            if document is not None and _running(document):
                await asyncio.sleep(POLL_SECONDS)
        stream.finish(_removed(name))

    async def _follow(self, stream: SharedStream, document: dict[str, Any]) -> None:
        response = await open_stream(
            self.engine,
            "GET",
            "/containers/{0}/stats",
            self.container,
            params={"stream": 1},
        )
        async for sample in json_lines(response):
            if _sample_of_stopped(sample):
                response.close()
                return
            stream.remember(("stats", {"running": True, **summarize(sample)}))


# --- Engine events -------------------------------------------------------------


def shape_event(event: dict[str, Any]) -> dict[str, Any]:
    """What the pages need of one engine event."""
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    return {
        "kind": event.get("Type", ""),
        "action": event.get("Action", ""),
        "id": actor.get("ID", ""),
        "name": attributes.get("name", ""),
        "attributes": attributes,
        "time_nano": event.get("timeNano"),
    }


def _since_event(event: dict[str, Any]) -> str | None:
    nano = event.get("timeNano")
    if not isinstance(nano, int):
        return None
    nano += 1
    return f"{nano // 10**9}.{nano % 10**9:09d}"


class EventProducer:
    """The environment's event stream, reopened after the engine comes back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.since: str | None = None

    async def __call__(self, stream: SharedStream) -> None:
        delay = POLL_SECONDS
        while True:
            try:
                await self._follow(stream)
                delay = POLL_SECONDS
            except EngineUnavailable as exc:
                stream.remember(
                    (
                        "event",
                        {
                            "kind": "engine",
                            "action": "unavailable",
                            "message": str(exc.detail),
                        },
                    )
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_SECONDS)

    async def _follow(self, stream: SharedStream) -> None:
        if self.since is None:
            self.since = f"{time.time():.9f}"
        response = await open_stream(
            self.engine, "GET", "/events", params={"since": self.since}
        )
        if stream.latest is not None:
            stream.latest = None
            stream.broadcast(("event", {"kind": "engine", "action": "available"}))
        async for event in json_lines(response):
            self.since = _since_event(event) or self.since
            stream.broadcast(("event", shape_event(event)))
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def watching(key: Hashable, produce: Producer, watcher: Watcher) -> Any:
    """Join the shared stream ``key`` for the duration of the block."""
    shared = hub().join(key, produce, watcher)
    try:
        yield shared
    finally:
        hub().leave(shared, watcher)
