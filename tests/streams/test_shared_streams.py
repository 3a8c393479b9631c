"""Many watchers, one engine stream; a slow watcher neither grows nor slows."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync

from apps.containers.streams import hub

from .conftest import Socket, has_text, settle, texts, token_for

pytestmark = pytest.mark.django_db(transaction=True)

# About 4 MB a second of numbered lines: far more than a stalled client holds.
FLOOD = "i=0; while :; do echo line-$i-" + "a" * 40 + "; i=$((i+1)); done"


def test_watchers_share_one_engine_stream_closed_with_the_last(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, ["sh", "-c", "echo shared; sleep 300"])
    token = token_for(viewer_user)

    async def body():
        sockets = [
            Socket(f"/ws/containers/{ident}/logs/", token=token) for _ in range(5)
        ]
        for socket in sockets:
            await socket.open()
        for socket in sockets:
            await socket.until(has_text("shared"))
        keys = [key for key in hub().open_streams() if key[0] == "logs"]
        assert len(keys) == 1
        for socket in sockets:
            await socket.leave()
        await settle()
        return [key for key in hub().open_streams() if key[0] == "logs"]

    assert async_to_sync(body)() == []


def test_a_slow_watcher_skips_ahead_and_does_not_slow_a_fast_one(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, ["sh", "-c", FLOOD])
    token = token_for(viewer_user)

    async def body():
        path = f"/ws/containers/{ident}/logs/?tail=0"
        slow = Socket(path, token=token, ack=False)
        fast = Socket(path, token=token)
        await slow.open()
        await fast.open()
        await settle(0.5)
        fast_lines, deadline = 0, time.monotonic() + 3
        while time.monotonic() < deadline:
            fast_lines += len(texts([await fast.next()]))
        # What the stalled client costs: its bounded buffer, and at most the
        # window of messages it has not acknowledged.
        watchers = [w for s in _streams(ident) for w in s.watchers]
        buffered = [w.buffered for w in watchers]
        unacked = slow.communicator.output_queue.qsize()
        # Once it reads again, it learns how much it missed.
        slow.ack = True
        await slow.send({"type": "ack", "seq": unacked})
        missed = 0
        for _ in range(unacked + 3):
            message = await slow.next()
            missed += message.get("missed", 0)
        await slow.leave()
        await fast.leave()
        return fast_lines, buffered, unacked, missed

    fast_lines, buffered, unacked, missed = async_to_sync(body)()
    assert fast_lines > 20_000  # thousands of lines a second reach the fast one
    assert all(count <= 10_000 and size <= 1024 * 1024 for count, size in buffered)
    assert unacked <= 16
    assert missed > 10_000


def _streams(ident: str):
    current = hub()
    return [current._streams[key] for key in current.open_streams() if ident in key]


def test_a_flood_keeps_the_web_process_memory_flat(
    make_container, unique_name, viewer_user
):
    import tracemalloc

    ident = make_container(unique_name, ["sh", "-c", FLOOD])
    token = token_for(viewer_user)

    async def body():
        path = f"/ws/containers/{ident}/logs/?tail=0"
        stalled = [Socket(path, token=token, ack=False) for _ in range(5)]
        for socket in stalled:
            await socket.open()
        await asyncio.sleep(1)
        tracemalloc.start()
        first, _ = tracemalloc.get_traced_memory()
        await asyncio.sleep(3)
        second, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        for socket in stalled:
            await socket.leave()
        return first, second, peak

    first, second, peak = async_to_sync(body)()
    # Megabytes a second flow in; five stalled watchers hold a bounded few.
    assert second - first < 8 * 1024 * 1024, (first, second)
    assert peak < 40 * 1024 * 1024
