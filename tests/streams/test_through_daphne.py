"""Live streams through a real Daphne server: handshake, origin, auth, data."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import start_portal, stop_portal

from .wsclient import Closed, WebSocket

PASSWORD = "streams-through-daphne-1"


@pytest.fixture
def server(tmp_path: Path, docker_client) -> Iterator[tuple[int, str]]:
    """A Daphne of our own on a free port, with an admin; yields (port, JWT)."""
    live, process = start_portal(
        tmp_path,
        {"DOCKPILOT_ADMIN_USERNAME": "admin", "DOCKPILOT_ADMIN_PASSWORD": PASSWORD},
    )
    try:
        request = urllib.request.Request(
            live.base + "/api/v1/auth/login",
            data=json.dumps({"username": "admin", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["access"]
        yield live.port, token
        assert token not in live.log.read_text(), "a token reached the server log"
    finally:
        stop_portal(process)


async def _open(port: int, path: str, token: str | None, origin: str) -> WebSocket:
    protocols = ["dockpilot", f"bearer.{token}"] if token else ["dockpilot"]
    return await WebSocket.connect(
        "127.0.0.1", port, path, origin=origin, subprotocols=protocols
    )


def test_logs_and_a_terminal_through_daphne(server, make_container, unique_name):
    port, token = server
    origin = f"http://127.0.0.1:{port}"
    ident = make_container(unique_name, ["sh", "-c", "echo via-daphne; sleep 300"])

    async def body():
        logs = await _open(port, f"/ws/containers/{ident}/logs/", token, origin)
        assert logs.subprotocol == "dockpilot"
        message = json.loads(await logs.receive())
        await logs.ack()
        assert message["type"] == "log"
        assert message["lines"][0]["text"] == "via-daphne"
        await logs.close()

        terminal = await _open(port, f"/ws/containers/{ident}/exec/", token, origin)
        await terminal.send_bytes(b"exit 3\n")
        last: str | bytes = b""
        for _ in range(50):
            last = await terminal.receive()
            await terminal.ack()
            if isinstance(last, str):
                break
        assert json.loads(last)["exit_code"] == 3
        with pytest.raises(Closed) as closed:
            await terminal.receive()
        assert closed.value.code == 1000

    asyncio.run(body())


def test_daphne_refuses_anonymous_and_foreign_origins(
    server, make_container, unique_name
):
    port, token = server
    ident = make_container(unique_name)
    path = f"/ws/containers/{ident}/stats/"

    async def body():
        with pytest.raises(Closed) as refused:
            await _open(port, path, token, "http://evil.example")
        assert refused.value.code == 403  # the handshake itself is refused
        # A page on another port of the same host (a published container
        # port, say) gets the same cookies, but is not the portal.
        for other in (f"http://127.0.0.1:{port + 1}", f"http://localhost:{port}"):
            with pytest.raises(Closed) as refused:
                await _open(port, path, token, other)
            assert refused.value.code == 403, other

        anonymous = await _open(port, path, None, f"http://127.0.0.1:{port}")
        with pytest.raises(Closed) as closed:
            await anonymous.receive(timeout=20)
        assert closed.value.code == 4401

    asyncio.run(body())
