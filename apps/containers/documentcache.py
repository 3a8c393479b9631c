"""Container inspect documents kept for a moment, dropped by the engine's events.

An inspect answer from the quick path (``quickreads``) is mostly the
engine's own time; a page polling a container, or a script looping over
one, asks for the same document again and again. Each engine's documents
are kept here for ``KEEP_SECONDS`` while its event stream is followed, and
a document is dropped as soon as an event names its container: start, stop,
die, pause, rename, update, exec (health probes run as execs), a network
connect or disconnect, destroy. Any change the portal itself asks of the
engine drops them all, before its answer is sent (``changed``).

Why the answer stays right:

- Nothing is kept unless the event stream is connected; when it breaks,
  everything is dropped and nothing is kept until it is back.
- A document read while an event arrived is not kept (a generation
  counter), so an older read cannot outlive a newer change.
- Known window: a change the engine announces with no event (a health
  probe's log is written just after its exec ends) shows after at most
  ``KEEP_SECONDS``; one made by another client shows once its event arrives
  here, a millisecond or so after the engine made it.
- Only full ids and names are keys; an id prefix always asks the engine.

Keeping runs on the event loop of the web process. The follower of an
engine stops after ``IDLE_SECONDS`` without a lookup, and starts again on
the next one (whose document is then read from the engine).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from dockpilot.errors import PortalError

from .engine import Engine, RawResponse, open_stream
from .streams import json_lines

logger = logging.getLogger("dockpilot.containers.documentcache")

KEEP_SECONDS = 2.0
IDLE_SECONDS = 60.0
MAX_DOCUMENTS = 500
RECONNECT_SECONDS = 2.0
_FULL_ID = re.compile(r"^[0-9a-f]{64}$")
_EVENT_TYPES = '{"type":["container","network"]}'


class Kept(NamedTuple):
    expiry: float
    container: str
    document: dict[str, Any]  # shared: never to be changed
    body: bytes


class KeptDocuments:
    """One engine's kept documents, by the name or id they were asked by."""

    def __init__(self) -> None:
        self._documents: dict[str, Kept] = {}
        self._lock = threading.Lock()
        self.generation = 0
        self.following = False
        self.last_use = 0.0
        self._task: asyncio.Task[None] | None = None
        # Called with each event too (``logtails`` drops a dead container's).
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def get(self, key: str) -> Kept | None:
        self.last_use = time.monotonic()
        hit = self._documents.get(key)
        if hit is None or not self.following or hit.expiry <= self.last_use:
            return None
        return hit

    def keep(self, key: str, document: dict[str, Any], body: bytes, since: int) -> None:
        """Keep a document read under ``key``, unless anything changed ``since``.

        ``body`` is the document rendered as the API renders it.
        """
        container = str(document.get("Id", ""))
        if not (_FULL_ID.match(key) or key == str(document.get("Name", ""))[1:]):
            return  # an id prefix, which a new container can make ambiguous
        expiry = time.monotonic() + KEEP_SECONDS
        with self._lock:
            if not self.following or since != self.generation:
                return
            if len(self._documents) >= MAX_DOCUMENTS:
                self._documents.clear()
            self._documents[key] = Kept(expiry, container, document, body)

    def drop(self, event: dict[str, Any]) -> None:
        """Forget what an engine event may have changed."""
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        if event.get("Type") == "network":
            container = str(attributes.get("container", ""))
            names: set[str] = set()
        else:
            container = str(actor.get("ID") or event.get("id") or "")
            names = {str(attributes.get("name", ""))}
        with self._lock:
            self.generation += 1
            for key, kept in list(self._documents.items()):
                if kept.container == container or key in names:
                    del self._documents[key]
        for listener in self.listeners:
            listener(event)

    def drop_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._documents.clear()

    def ensure_followed(self, engine: Engine) -> None:
        """Start following the engine's events from this event loop, if not yet."""
        task = self._task
        if task is not None and not task.done():
            if task.get_loop() is asyncio.get_running_loop():
                return
            task.cancel()  # another loop's follower (tests): it cannot run
        self.following = False
        self._task = asyncio.get_running_loop().create_task(self._follow(engine))

    async def _follow(self, engine: Engine) -> None:
        run = _Run()
        reader = asyncio.create_task(self._keep_reading(engine, run))
        try:
            while not reader.done() and time.monotonic() - self.last_use < IDLE_SECONDS:
                await asyncio.wait({reader}, timeout=IDLE_SECONDS / 4)
        finally:
            # Closing the stream ends the reader even if a cancellation is
            # lost (asyncio.wait_for can swallow one before Python 3.12).
            run.stopped = True
            if run.response is not None:
                run.response.close()
            reader.cancel()
            self.following = False
            self.drop_all()
            logger.debug("stopped following events of %s", engine.environment_name)

    async def _keep_reading(self, engine: Engine, run: _Run) -> None:
        while not run.stopped:
            try:
                response = await open_stream(
                    engine, "GET", "/events", params={"filters": _EVENT_TYPES}
                )
            except PortalError as exc:
                logger.info("events of %s: %s", engine.environment_name, exc.detail)
            else:
                run.response = response
                if run.stopped:
                    response.close()
                    return
                self.drop_all()
                self.following = True
                async for event in json_lines(response):
                    self.drop(event)
            self.following = False
            self.drop_all()
            if not run.stopped:
                await asyncio.sleep(RECONNECT_SECONDS)


class _Run:
    """One follower's stream, and whether it was told to stop."""

    def __init__(self) -> None:
        self.stopped = False
        self.response: RawResponse | None = None


_kept: dict[str, KeptDocuments] = {}
_kept_lock = threading.Lock()


def kept_for(engine: Engine) -> KeptDocuments:
    found = _kept.get(engine.endpoint)
    if found is None:
        with _kept_lock:
            found = _kept.setdefault(engine.endpoint, KeptDocuments())
    return found


def changed(endpoint: str) -> None:
    """The portal asked the engine at ``endpoint`` to change something."""
    found = _kept.get(endpoint)
    if found is not None:
        found.drop_all()
