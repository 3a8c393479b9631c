"""The ASGI handler's pooled request threads (dockpilot/handler.py)."""

import asyncio
import threading

import pytest

from dockpilot import handler
from dockpilot.handler import PortalASGIHandler, RequestThread


@pytest.fixture(autouse=True)
def _no_idle_threads():
    handler._idle.clear()
    yield
    for thread in handler._idle:
        thread.shutdown(wait=False)
    handler._idle.clear()


def test_an_idle_request_thread_serves_the_next_request():
    thread = handler.take_thread()
    thread.submit(lambda: None).result(timeout=5)

    handler.give_back_thread(thread)

    assert handler.take_thread() is thread


def test_a_thread_still_running_a_view_is_not_given_to_another_request():
    thread = handler.take_thread()
    release = threading.Event()
    thread.submit(release.wait, 5)

    handler.give_back_thread(thread)

    assert thread not in handler._idle
    release.set()


def test_no_more_than_the_limit_of_idle_threads_is_kept():
    threads = [RequestThread() for _ in range(handler.IDLE_THREADS + 2)]

    for thread in threads:
        handler.give_back_thread(thread)

    assert len(handler._idle) == handler.IDLE_THREADS


@pytest.mark.django_db(transaction=True)
def test_consecutive_requests_share_one_pooled_thread():
    app = PortalASGIHandler()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/auth/me",
        "raw_path": b"/api/v1/auth/me",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def one() -> int:
        sent = []
        messages = [{"type": "http.request", "body": b"", "more_body": False}]
        never = asyncio.get_running_loop().create_future()

        async def receive():
            return messages.pop() if messages else await never

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"]

    async def two() -> list[int]:
        return [await one(), await one()]

    assert asyncio.run(two()) == [401, 401]
    assert len(handler._idle) == 1
