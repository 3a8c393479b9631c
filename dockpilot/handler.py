"""Django's ASGI handler, run the way a threaded WSGI server runs Django.

Two costs of Django's own ASGI handler are avoided here (about 3.5 ms of
CPU a request on the 2-core development machine, against 1 ms for the rest
of an authenticated request):

- The middleware chain runs on the event loop. Django's own middleware
  (sessions, CSRF, messages, ...) are ``MiddlewareMixin`` classes, which
  then send every ``process_request`` and ``process_response`` to a thread
  and back: about fifteen crossings a request. All the portal's views are
  sync, so nothing is gained on the loop: this handler loads the chain in
  its sync form and crosses to a thread once for it and the view.
- Each request gets a new thread (its ``ThreadSensitiveContext``), so a new
  database connection too. Here the request's thread comes from a pool of
  idle ones and goes back when the request is over, and its database
  connection is kept (``CONN_MAX_AGE``), as with a threaded WSGI server.

Each request still has one thread of its own for all its sync work, for as
long as it runs; a thread still busy when its request ends (a view left
running after the client went away) is not reused. WebSockets do not come
here (Channels routes them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

# Idle request threads kept for the next requests; more run when more
# requests are in flight at once, and end with them.
IDLE_THREADS = 8


class RequestThread(ThreadPoolExecutor):
    """One thread for one request at a time, knowing whether it is busy."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="dockpilot-request")
        self._count_lock = threading.Lock()
        self.pending = 0

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        with self._count_lock:
            self.pending += 1
        return super().submit(self._run, fn, args, kwargs)

    def _run(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            with self._count_lock:
                self.pending -= 1


# Touched only on the event loop's thread.
_idle: list[RequestThread] = []


def take_thread() -> RequestThread:
    """An idle request thread, or a new one (on the event loop's thread only)."""
    return _idle.pop() if _idle else RequestThread()


def give_back_thread(thread: RequestThread) -> None:
    """Keep a request's thread for the next request, if it is idle."""
    if thread.pending == 0 and len(_idle) < IDLE_THREADS:
        _idle.append(thread)
    else:
        thread.shutdown(wait=False)


class PortalASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # Imported once Django is set up: it loads models.
        from apps.containers import quickreads

        self._quick_reads = quickreads.respond

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # Django refuses it
            return
        if await self._quick_reads(scope, send):
            return
        thread = take_thread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            give_back_thread(thread)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # The request's thread, as for its other sync work (signals, the
        # response's close): one database connection for the request.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> PortalASGIHandler:
    """``django.core.asgi.get_asgi_application`` with the handler above."""
    django.setup(set_prefix=False)
    return PortalASGIHandler()
