"""The pieces under the streams, without an engine: parsing, buffers, windows."""

from __future__ import annotations

import asyncio
import struct

from apps.containers.consumers.base import CreditWindow
from apps.containers.logs import MAX_LINE, LogFollower
from apps.containers.streams import Watcher, after


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def feed_bytewise(follower: LogFollower, data: bytes) -> list:
    lines = []
    for n in range(len(data)):
        lines += follower.feed(data[n : n + 1])
    return lines + follower.flush()


def test_frames_fed_one_byte_at_a_time_give_whole_lines():
    data = (
        frame(1, "héllo wörld\n".encode()) + frame(2, b"oops \xff\n") + frame(1, b"x\n")
    )
    lines = feed_bytewise(LogFollower(tty=False, timestamps=False), data)
    assert [(line.stream, line.text) for line in lines] == [
        ("stdout", "héllo wörld"),
        ("stderr", "oops \ufffd"),
        ("stdout", "x"),
    ]


def test_a_character_cut_between_two_frames_is_joined():
    text = ("a" * 16383 + "é end\n").encode()
    data = frame(1, text[:16384]) + frame(1, text[16384:])
    lines = LogFollower(tty=False, timestamps=False).feed(data)
    assert [line.text for line in lines] == ["a" * 16383 + "é end"]


def test_tty_output_splits_at_newlines_wherever_chunks_end():
    data = "one\r\ntwo ✓\nthree".encode()
    lines = feed_bytewise(LogFollower(tty=True, timestamps=False), data)
    assert [line.text for line in lines] == ["one", "two ✓", "three"]


def test_timestamps_are_split_from_the_text():
    stamp = "2026-12-04T10:00:00.123456789Z"
    lines = LogFollower(tty=False, timestamps=True).feed(
        frame(1, f"{stamp} hi\n".encode())
    )
    assert (lines[0].timestamp, lines[0].text) == (stamp, "hi")


def test_a_runaway_line_is_cut_and_says_how_much_was_left_out():
    pieces = [b"z" * 16384] * 20 + [b"end\n"]
    follower = LogFollower(tty=False, timestamps=False)
    lines = [line for piece in pieces for line in follower.feed(frame(1, piece))]
    assert len(lines) == 1
    assert len(lines[0].text) == MAX_LINE
    assert lines[0].cut == 16384 * 20 + 3 - MAX_LINE


def test_after_is_one_nanosecond_past_the_stamp():
    assert after("1970-01-01T00:00:10.999999999Z") == "11.000000000"
    assert after("1970-01-01T00:00:10Z") == "10.000000001"


def test_a_full_watcher_drops_its_oldest_items_and_counts_them():
    async def body():
        watcher = Watcher(max_count=10, max_bytes=10_000)
        for n in range(100):
            watcher.push(("lines", n), count=3, size=10)
        assert watcher.buffered == (9, 30)
        items, missed, ended = await watcher.take()
        assert [body for _, body in items] == [97, 98, 99]
        assert missed == 291 and ended is None

    asyncio.run(body())


def test_the_credit_window_waits_for_acks():
    async def body():
        window = CreditWindow(max_messages=2, max_bytes=1000)
        assert await window.reserve(10) == 1
        assert await window.reserve(10) == 2
        third = asyncio.create_task(window.reserve(10))
        await asyncio.sleep(0.05)
        assert not third.done()
        window.ack(1)
        assert await asyncio.wait_for(third, 1) == 3

    asyncio.run(body())
