"""Engine events over a WebSocket: a start and a stop, and a lost engine."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from .conftest import Socket, settle, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def of(ident: str, action: str):
    return lambda messages: any(
        m.get("id") == ident and m.get("action") == action for m in messages
    )


def test_a_start_and_a_stop_arrive_as_events(
    make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(unique_name, start=False)
    token = token_for(viewer_user)

    async def body():
        socket = Socket("/ws/events/", token=token)
        await socket.open()
        try:
            await settle(0.5)  # the engine stream is open before we act
            docker_client.api.start(ident)
            started = await socket.until(of(ident, "start"))
            docker_client.api.stop(ident, timeout=0)
            stopped = await socket.until(of(ident, "die"))
            return started + stopped
        finally:
            await socket.leave()

    messages = async_to_sync(body)()
    start = next(m for m in messages if m.get("id") == ident and m["action"] == "start")
    assert start["type"] == "event"
    assert start["kind"] == "container"
    assert start["name"] == unique_name


def test_events_resume_after_the_engine_comes_back(
    relayed_default, relay, make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(unique_name, start=False)
    token = token_for(viewer_user)

    async def body():
        socket = Socket("/ws/events/", token=token)
        await socket.open()
        try:
            await settle(0.5)
            relay.stop()
            lost = await socket.until(
                lambda m: any(x.get("action") == "unavailable" for x in m), timeout=15
            )
            # Started while the portal cannot see the engine: still delivered.
            docker_client.api.start(ident)
            relay.start()
            back = await socket.until(of(ident, "start"), timeout=30)
            return lost, back
        finally:
            await socket.leave()

    lost, back = async_to_sync(body)()
    assert lost[-1]["kind"] == "engine"
    assert any(m.get("action") == "available" for m in back)
