"""The last lines of running containers' logs, kept while the engine streams them.

A page or script polling a log asks the engine for the same ``tail=100``
again and again; through the quick path that read is most of the answer's
time. So, for an admin's quick read (``quickreads``), the engine's own
followed log of a running container is read here as it grows, and the
last ``KEEP_ENTRIES`` entries are kept in the engine's own bytes: each
entry is the frame the engine would send with ``timestamps=1``. A kept
answer is built from those bytes (its stamps dropped unless asked for) and
parsed by the same function as a read from the engine.

Why a kept answer is the engine's:

- The kept entries are a run of the log with nothing missing or
  repeated. They start from a plain read of the last ``KEEP_ENTRIES``
  entries, made after the followed stream was opened; the stream gives the
  entries up to that read's end again (skipped here) and everything after
  it. The read's end is found by its last message: the pieces of a line
  longer than 16 KiB share one stamp, which no other message has, and may
  be identical to each other, with the other stream's lines between them,
  so the stream must give every piece of it the read holds, in order,
  before anything is added.
- Each answer is checked first: the engine's last entries are read
  (``tail`` of one more than the kept entries sharing the last stamp,
  0.3 ms against 0.9 ms for ``tail=100``), and the kept tail answers only
  when they are its own last entries. A stream that lags (the engine's
  followed stream fell seconds behind under tens of thousands of lines a
  second in a break test) or held back its last bytes (the engine buffers
  up to 4 KiB of a followed stream) is then not used: the engine answers.
- Only logs whose reads are fully known are kept: no TTY (its bytes have
  no frames), the ``json-file`` driver without rotation (a rotation drops
  old entries, which a kept tail would still show), and both streams asked
  for (the engine takes ``tail`` before it drops a stream's entries).
- The stream of a container ends when it stops; its tail is dropped then,
  and on its ``die`` or ``destroy`` event, and every tail is dropped when
  the portal asks the engine to change anything (``changed``).

Known limit: the check compares entries by their bytes, stamp included.
Two different messages with the same stamp, the same stream and the same
text are one to it; the engine's clock gives each message its own
nanosecond.

A log is followed from its second read within ``IDLE_SECONDS``. Bounds: at
most ``MAX_TAILS`` containers, ``MAX_BYTES`` of entries each; a tail unused
for ``IDLE_SECONDS`` stops, and one whose stream skipped more than
``MAX_SKIPPED`` entries without reaching the read's end is given up (a
later read starts again). The first read of a followed log holds up to
``KEEP_ENTRIES`` entries of up to 16 KiB each in memory for a moment,
before they are cut to ``MAX_BYTES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from dockpilot.errors import PortalError

from . import documentcache
from .asyncreads import engine_get
from .engine import Engine, RawResponse, open_stream
from .logs import demultiplex, take_frames

logger = logging.getLogger("dockpilot.containers.logtails")

KEEP_ENTRIES = 500
MAX_BYTES = 512 * 1024
MAX_TAILS = 16
IDLE_SECONDS = 60.0
EVICT_SECONDS = 5.0
MAX_SKIPPED = 4 * KEEP_ENTRIES
# A longer run of entries with one stamp (a line of over 1 MiB) is not
# checked: the engine answers.
_MAX_RUN = 64
_SWEEP_SECONDS = 5.0
_MAX_ASKED = 1000
_MAX_RENDERED = 64 * 1024

_HEADER = struct.Struct(">BxxxL")
_STREAM_NUMBERS = {"stdin": 0, "stdout": 1, "stderr": 2}
# An entry: the stream's number and the payload sent with timestamps=1
# ("<RFC 3339 stamp> <line>").
Entry = tuple[int, bytes]


def keepable(document: dict[str, Any]) -> bool:
    """Whether the log of the container ``document`` inspects can be kept."""
    state = document.get("State") or {}
    config = document.get("Config") or {}
    log_config = (document.get("HostConfig") or {}).get("LogConfig") or {}
    options = log_config.get("Config") or {}
    return (
        bool(state.get("Running"))
        and not config.get("Tty")
        and log_config.get("Type") == "json-file"
        and "max-size" not in options
    )


class _Tail:
    """One container's kept entries and the stream that adds to them."""

    def __init__(self, container: str, loop: asyncio.AbstractEventLoop) -> None:
        self.container = container
        self.loop = loop
        self.entries: deque[Entry] = deque()
        self.size = 0
        self.whole = False  # the entries are the container's whole log
        self.seeded = False
        self.ready = False  # the stream reached the seed's end
        self.closed = False
        self.last_use = time.monotonic()
        # The seed's last message so far: its entries (the pieces of a long
        # line share its stamp), which the stream must give again in order.
        self._last_stamp: bytes | None = None
        self._last_message: list[Entry] = []
        self._repeated: list[Entry] = []
        self.skipped = 0
        self._rendered: dict[tuple[int, bool], bytes] = {}
        self.response: RawResponse | None = None
        self.task: asyncio.Task[None] | None = None

    def seed(self, entries: list[Entry]) -> None:
        """Start from a plain read of the last ``KEEP_ENTRIES`` entries."""
        self.whole = len(entries) < KEEP_ENTRIES
        for entry in entries:
            self._append(entry)
        if entries:
            # Every piece of it: the other stream's lines can come between.
            self._last_stamp = _stamp(entries[-1])
            self._last_message = [e for e in entries if _stamp(e) == self._last_stamp]
        self.ready = not entries
        self.seeded = True

    def add(self, entry: Entry) -> None:
        """An entry from the followed stream."""
        if self.ready:
            self._append(entry)
        elif _stamp(entry) != self._last_stamp:
            self.skipped += 1  # before the seed's end: the seed has it
        else:
            # A piece of the seed's last message: once the stream has given
            # as many as the seed holds, what follows is new. Pieces can be
            # identical to each other, so all of them are compared, in order.
            self._repeated.append(entry)
            if len(self._repeated) == len(self._last_message):
                if self._repeated == self._last_message:
                    self.ready = True
                else:
                    self.skipped = MAX_SKIPPED + 1  # not the seed's log: given up

    def check_count(self) -> int | None:
        """How many last entries to compare with the engine's; None: too many.

        One more than the kept entries that share the last stamp, so that
        the first compared entry is another message: pieces of one line can
        be identical, two messages cannot.
        """
        if not self.entries:
            return 1
        stamp = _stamp(self.entries[-1])
        run = 0
        for entry in reversed(self.entries):
            if _stamp(entry) != stamp:
                break
            run += 1
            if run > _MAX_RUN:
                return None
        return run + 1

    def last_entries(self, count: int) -> list[Entry]:
        skip = max(len(self.entries) - count, 0)
        return list(itertools.islice(self.entries, skip, None))

    def _append(self, entry: Entry) -> None:
        self._rendered.clear()
        self.entries.append(entry)
        self.size += len(entry[1])
        while self.size > MAX_BYTES or len(self.entries) > KEEP_ENTRIES:
            self.size -= len(self.entries.popleft()[1])
            self.whole = False

    def last(self, count: int, timestamps: bool) -> bytes | None:
        """The engine's body for ``tail=count``; None when not all kept."""
        if count > len(self.entries) and not self.whole:
            return None
        parts = []
        for stream, payload in self.last_entries(count):
            if not timestamps:
                payload = payload.partition(b" ")[2]
            parts.append(_HEADER.pack(stream, len(payload)))
            parts.append(payload)
        return b"".join(parts)

    def rendered(
        self, count: int, timestamps: bool, render: Callable[[bytes], bytes]
    ) -> bytes | None:
        """``render`` of the last ``count`` entries, kept until an entry comes."""
        key = (count, timestamps)
        body = self._rendered.get(key)
        if body is None:
            data = self.last(count, timestamps)
            if data is None:
                return None
            body = render(data)
            if len(body) <= _MAX_RENDERED and len(self._rendered) < 4:
                self._rendered[key] = body
        return body

    def close(self) -> None:
        self.closed = True
        if self.response is not None:
            self.response.close()


class KeptTails:
    """One engine's kept log tails, by full container id."""

    def __init__(self) -> None:
        self._tails: dict[str, _Tail] = {}
        self._lock = threading.Lock()
        self._sweeper: asyncio.Task[None] | None = None
        self._asked: dict[str, float] = {}  # when each log was last read here

    async def answer(
        self,
        engine: Engine,
        container: str,
        count: int,
        timestamps: bool,
        render: Callable[[bytes], bytes] = bytes,
    ) -> bytes | None:
        """``render`` of the engine's body for ``tail=count``, from the kept
        tail if it is the engine's log to its last entry; None: ask the
        engine. An answer is rendered once for each state of the tail, so
        ``render`` must give one answer for one body of this container."""
        tail = self._tails.get(container)
        if tail is None or tail.closed or not tail.seeded or count < 1:
            return None
        if tail.loop is not asyncio.get_running_loop():
            return None
        tail.last_use = time.monotonic()
        compared = tail.check_count()
        if compared is None:
            return None
        engines = await _last_of(engine, container, compared)
        # Compared after the read: entries the stream brought meanwhile make
        # the two differ, and the engine answers.
        if engines is None or tail.closed or engines != tail.last_entries(compared):
            return None
        return tail.rendered(count, timestamps, render)

    def follow(self, engine: Engine, container: str) -> None:
        """Keep the tail of ``container`` from this event loop, if worth it.

        A log read once (a look, a script's one-off) is not followed: only
        one read again within ``IDLE_SECONDS``. When ``MAX_TAILS`` are kept,
        the least used gives way only if unread for ``EVICT_SECONDS``, so
        that reads going round more containers than that do not start and
        stop a stream each time.
        """
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        with self._lock:
            found = self._tails.get(container)
            if found is not None and not found.closed and found.loop is loop:
                return
            if not self._asked_again(container, now):
                return
            if len(self._tails) >= MAX_TAILS:
                oldest = min(self._tails.values(), key=lambda t: t.last_use)
                if now - oldest.last_use < EVICT_SECONDS:
                    return
                self._drop_locked(oldest)
            tail = _Tail(container, loop)
            self._tails[container] = tail
        tail.task = loop.create_task(self._keep(engine, tail))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = loop.create_task(self._sweep())

    def _asked_again(self, container: str, now: float) -> bool:
        if len(self._asked) >= _MAX_ASKED:
            self._asked.clear()
        last = self._asked.get(container)
        self._asked[container] = now
        return last is not None and now - last < IDLE_SECONDS

    def drop(self, container: str) -> None:
        with self._lock:
            found = self._tails.get(container)
            if found is not None:
                self._drop_locked(found)

    def drop_all(self) -> None:
        with self._lock:
            for tail in list(self._tails.values()):
                self._drop_locked(tail)

    def on_event(self, event: dict[str, Any]) -> None:
        """An engine event: a container that died or went away keeps no tail."""
        if event.get("Type") == "container" and event.get("Action") in (
            "die",
            "destroy",
        ):
            self.drop(str((event.get("Actor") or {}).get("ID", "")))

    def _drop_locked(self, tail: _Tail) -> None:
        # Called from request threads too (``changed``): the entries go at
        # once, the stream is closed on its own loop.
        tail.closed = True
        if self._tails.get(tail.container) is tail:
            del self._tails[tail.container]
        with contextlib.suppress(RuntimeError):  # a test's loop that has ended
            tail.loop.call_soon_threadsafe(tail.close)

    async def _keep(self, engine: Engine, tail: _Tail) -> None:
        try:
            await _follow(engine, tail)
        except (PortalError, OSError, asyncio.IncompleteReadError) as exc:
            logger.info("log of %s not kept: %s", tail.container[:12], exc)
        except Exception:
            logger.exception("log of %s not kept", tail.container[:12])
        finally:
            with self._lock:
                self._drop_locked(tail)

    async def _sweep(self) -> None:
        # Stops tails nobody reads and tails that never caught up; ends with
        # the last of them.
        while self._tails:
            await asyncio.sleep(_SWEEP_SECONDS)
            now = time.monotonic()
            with self._lock:
                for tail in list(self._tails.values()):
                    idle = now - tail.last_use > IDLE_SECONDS
                    stuck = not tail.ready and tail.skipped > MAX_SKIPPED
                    if idle or stuck:
                        self._drop_locked(tail)


async def _follow(engine: Engine, tail: _Tail) -> None:
    response = await open_stream(
        engine,
        "GET",
        "/containers/{0}/logs",
        tail.container,
        params={**_stamped(KEEP_ENTRIES), "follow": 1},
    )
    tail.response = response
    task = asyncio.current_task()
    if tail.closed or (task is not None and task.cancelling()):
        # Before Python 3.12 open_stream's asyncio.wait_for can swallow a
        # cancellation (a loop that ends): the stream would be read forever.
        response.close()
        return

    # The plain read comes after the stream was opened: the stream holds
    # every entry written after it, and gives the read's last message again.
    seed = await _last_of(engine, tail.container, KEEP_ENTRIES)
    if seed is None:
        return
    tail.seed(seed)

    async for entry in _entries(response):
        if tail.closed:
            return
        tail.add(entry)


def _stamped(count: int) -> dict[str, int]:
    return {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": count}


async def _last_of(engine: Engine, container: str, count: int) -> list[Entry] | None:
    """The engine's last ``count`` entries of a log, read now; None if it failed."""
    data = await engine_get(engine, f"/containers/{container}/logs", _stamped(count))
    frames = demultiplex(data) if data is not None else None
    if frames is None:
        return None
    return [(_STREAM_NUMBERS[stream], payload) for stream, payload in frames]


def _stamp(entry: Entry) -> bytes:
    return entry[1].partition(b" ")[0]


async def _entries(response: RawResponse) -> Any:
    """The frames of a followed, multiplexed log as they arrive."""
    pending = bytearray()
    while data := await response.read():
        pending += data
        for entry in take_frames(pending):
            yield entry


_kept: dict[str, KeptTails] = {}
_kept_lock = threading.Lock()


def kept_for(engine: Engine) -> KeptTails:
    found = _kept.get(engine.endpoint)
    if found is None:
        with _kept_lock:
            if engine.endpoint not in _kept:
                _kept[engine.endpoint] = KeptTails()
                # A tail is dropped on its container's death as the events say.
                events = documentcache.kept_for(engine)
                events.listeners.append(_kept[engine.endpoint].on_event)
            found = _kept[engine.endpoint]
    return found


def changed(endpoint: str) -> None:
    """The portal asked the engine at ``endpoint`` to change something."""
    found = _kept.get(endpoint)
    if found is not None:
        found.drop_all()
