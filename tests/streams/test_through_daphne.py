"""Live streams through a real Daphne server: handshake, origin, auth, data."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .wsclient import Closed, WebSocket

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "streams-through-daphne-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_health(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("daphne exited:\n" + log.read_text())
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("daphne did not answer /health in 60 s:\n" + log.read_text())


@pytest.fixture
def server(tmp_path: Path, docker_client) -> Iterator[tuple[int, str]]:
    """A Daphne of our own on a free port, with an admin; yields (port, JWT)."""
    env = {
        **os.environ,
        "DOCKPILOT_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "dockpilot.settings.dev",
        "DOCKPILOT_ADMIN_USERNAME": "admin",
        "DOCKPILOT_ADMIN_PASSWORD": PASSWORD,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = _free_port()
    log = tmp_path / "daphne.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "dockpilot.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base, process, log)
        request = urllib.request.Request(
            base + "/api/v1/auth/login",
            data=json.dumps({"username": "admin", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["access"]
        yield port, token
        assert token not in log.read_text(), "a token reached the server log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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

        anonymous = await _open(port, path, None, f"http://127.0.0.1:{port}")
        with pytest.raises(Closed) as closed:
            await anonymous.receive(timeout=20)
        assert closed.value.code == 4401

    asyncio.run(body())
