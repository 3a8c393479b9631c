"""Live stats over a WebSocket: running, stopped and network-less containers."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from .conftest import Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def samples(ident: str, token: str, count: int, timeout: float = 15) -> list[dict]:
    async def body():
        socket = Socket(f"/ws/containers/{ident}/stats/", token=token)
        await socket.open()
        try:
            return await socket.until(lambda m: len(m) >= count, timeout=timeout)
        finally:
            await socket.leave()

    return async_to_sync(body)()


def test_a_running_container_gets_a_sample_a_second(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, ["sh", "-c", "while :; do :; done"])
    got = samples(ident, token_for(viewer_user), 3)
    assert [m["type"] for m in got] == ["stats"] * 3
    last = got[-1]
    assert last["running"] is True
    # The busy loop shows even on a loaded machine, where it gets less than a CPU.
    assert last["cpu_percent"] > 2
    assert last["memory"]["used"] > 0 and last["memory"]["limit"] > 0
    assert last["network"] is not None and "rx_bytes" in last["network"]
    assert set(last["block_io"]) == {"read_bytes", "write_bytes"}
    assert last["pids"] >= 1


def test_a_container_without_network_reports_no_network(
    make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(
        unique_name,
        host_config=docker_client.api.create_host_config(network_mode="none"),
    )
    got = samples(ident, token_for(viewer_user), 2)
    assert all(m["network"] is None for m in got)


def test_a_stopped_container_gets_a_clear_message(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, start=False)
    got = samples(ident, token_for(viewer_user), 1)
    assert got[0]["running"] is False
    assert got[0]["state"] == "created"
    assert "resumes when it starts" in got[0]["message"]


def test_stats_resume_when_a_stopped_container_starts(
    make_container, unique_name, viewer_user, docker_client
):
    ident = make_container(unique_name, start=False)
    token = token_for(viewer_user)

    async def body():
        socket = Socket(f"/ws/containers/{ident}/stats/", token=token)
        await socket.open()
        try:
            first = await socket.next()
            docker_client.api.start(ident)
            later = await socket.until(
                lambda m: any(x.get("running") for x in m), timeout=15
            )
            docker_client.api.kill(ident)
            stopped = await socket.until(
                lambda m: any(x.get("running") is False for x in m), timeout=15
            )
            return first, later, stopped
        finally:
            await socket.leave()

    first, later, stopped = async_to_sync(body)()
    assert first["running"] is False
    assert later[-1]["running"] is True
    assert stopped[-1]["state"] == "exited"
