"""Following container logs over a WebSocket, against the real engine."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from docker.types import LogConfig

from .conftest import Socket, has_text, has_type, lines_of, texts, token_for

pytestmark = pytest.mark.django_db(transaction=True)

# Prints history, waits, then prints live lines on both streams.
TICKS = (
    "i=1; while [ $i -le 5 ]; do echo old-$i; i=$((i+1)); done; sleep 1.5; "
    "echo live-out; echo live-err >&2; printf 'bad \\377 byte\\n'; sleep 300"
)
# 16383 bytes then "é": the engine cuts the line inside the character.
CUT = (
    "sleep 1.5; head -c 16383 /dev/zero | tr '\\0' a; printf '\\303\\251 end\\n'; "
    "echo after-cut; sleep 300"
)
# One 20 KiB line (delivered whole) and one 100 KiB line (cut with a marker).
LONG = (
    "sleep 1.5; head -c 20000 /dev/zero | tr '\\0' b; echo; "
    "head -c 100000 /dev/zero | tr '\\0' c; echo; echo after-long; sleep 300"
)


def path(ident: str, query: str = "") -> str:
    return f"/ws/containers/{ident}/logs/" + (f"?{query}" if query else "")


def follow(ident: str, token: str, found, query: str = "", timeout: float = 20):
    async def body():
        socket = Socket(path(ident, query), token=token)
        await socket.open()
        try:
            return await socket.until(found, timeout=timeout)
        finally:
            await socket.leave()

    return async_to_sync(body)()


def test_history_then_live_lines_with_streams_marked(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, ["sh", "-c", TICKS])
    messages = follow(
        ident,
        token_for(viewer_user),
        lambda m: has_text("bad \ufffd byte")(m) and has_text("live-err")(m),
    )
    assert texts(messages)[:5] == [f"old-{i}" for i in range(1, 6)]
    streams = {line["text"]: line["stream"] for line in lines_of(messages)}
    assert streams["live-out"] == "stdout"
    assert streams["live-err"] == "stderr"
    assert all("timestamp" not in line for line in lines_of(messages))
    assert all(m["seq"] == n for n, m in enumerate(messages, start=1))


def test_tail_timestamps_and_one_stream_only(make_container, unique_name, viewer_user):
    ident = make_container(unique_name, ["sh", "-c", TICKS])
    messages = follow(
        ident,
        token_for(viewer_user),
        has_text("bad \ufffd byte"),
        query="tail=2&timestamps=true&stderr=false",
    )
    assert texts(messages) == ["old-4", "old-5", "live-out", "bad \ufffd byte"]
    assert all(line["timestamp"].endswith("Z") for line in lines_of(messages))


def test_a_tty_container_streams_its_raw_output(
    make_container, unique_name, viewer_user
):
    ident = make_container(
        unique_name,
        [
            "sh",
            "-c",
            "echo tty-old; sleep 1.5; printf 'tty-\\033[31mred\\033[0m\\n'; sleep 300",
        ],
        tty=True,
    )
    messages = follow(ident, token_for(viewer_user), has_text("tty-\x1b[31mred\x1b[0m"))
    assert texts(messages) == ["tty-old", "tty-\x1b[31mred\x1b[0m"]
    assert {line["stream"] for line in lines_of(messages)} == {"stdout"}


def test_a_utf8_character_cut_by_the_engine_arrives_whole(
    make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(
        unique_name,
        ["sh", "-c", CUT],
        host_config=docker_client.api.create_host_config(
            log_config=LogConfig(type="local")
        ),
    )
    messages = follow(ident, token_for(viewer_user), has_text("after-cut"))
    assert texts(messages) == ["a" * 16383 + "é end", "after-cut"]


def test_long_lines_whole_up_to_64k_then_cut_with_a_marker(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, ["sh", "-c", LONG])
    messages = follow(ident, token_for(viewer_user), has_text("after-long"))
    first, second, last = lines_of(messages)
    assert first["text"] == "b" * 20000 and "cut" not in first
    assert second["text"] == "c" * 65536
    assert second["cut"] == 100000 - 65536
    assert last["text"] == "after-long"


def test_a_restarted_container_keeps_streaming(
    make_container, unique_name, operator_user, docker_client
):
    ident = make_container(unique_name, ["sh", "-c", "echo started; sleep 300"])
    token = token_for(operator_user)

    # The new run's line may arrive just before the event that says the
    # container restarted: the engine's follow can outlive the old run.
    def restarted_and_printed(messages) -> bool:
        restarted = any(m.get("action") in ("start", "restart") for m in messages)
        return restarted and has_text("started")(messages)

    async def body():
        socket = Socket(path(ident), token=token)
        await socket.open()
        try:
            await socket.until(has_text("started"))
            docker_client.api.restart(ident, timeout=0)
            return await socket.until(restarted_and_printed, timeout=30)
        finally:
            await socket.leave()

    messages = async_to_sync(body)()
    events = [m["action"] for m in messages if m["type"] == "event"]
    assert events in (["stop", "start"], ["restart"])
    # The second run's line once: the first run's is not repeated.
    assert texts(messages) == ["started"]


def test_a_removed_container_ends_the_stream(
    make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(unique_name, ["sh", "-c", "echo here; sleep 300"])
    token = token_for(viewer_user)

    async def body():
        socket = Socket(path(ident), token=token)
        await socket.open()
        try:
            await socket.until(has_text("here"))
            docker_client.api.remove_container(ident, force=True)
            messages = await socket.until(has_type("end"), timeout=30)
            assert await socket.closed() == 1000
            return messages
        finally:
            await socket.leave()

    messages = async_to_sync(body)()
    assert messages[-1]["reason"] == "removed"
    assert unique_name in messages[-1]["message"]


def test_bad_options_are_refused_with_a_message(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name)
    token = token_for(viewer_user)

    async def body():
        socket = Socket(path(ident, "tail=-3"), token=token)
        await socket.open()
        message = await socket.next()
        code = await socket.closed()
        await socket.leave()
        return message, code

    message, code = async_to_sync(body)()
    assert message["type"] == "error" and message["message"].startswith("tail:")
    assert code == 4400
