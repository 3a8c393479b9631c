"""A newcomer's first session, against a real Daphne server and engine.

Migrate a fresh data directory, start the server, read the setup token from
its log, create the first admin, log in, run a container's whole life and
find every step in the audit log.
"""

from __future__ import annotations

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

from tests.conftest import LABELS

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Portal:
    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log
        self.token = ""

    def call(
        self, method: str, path: str, body: dict | None = None
    ) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


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
def portal(tmp_path: Path, docker_client) -> Iterator[Portal]:
    env = {
        **os.environ,
        "DOCKPILOT_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "dockpilot.settings.dev",
    }
    env.pop("DOCKPILOT_ADMIN_PASSWORD", None)
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
        yield Portal(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _setup_token(log: Path) -> str:
    for line in log.read_text().splitlines():
        if '"token": "' in line:
            return line.split('"token": "', 1)[1].split('"', 1)[0]
    pytest.fail("no setup token in the server log:\n" + log.read_text())


def test_a_newcomer_sets_up_the_portal_and_runs_a_container(
    portal, test_image, unique_name
):
    token = _setup_token(portal.log)
    status, _ = portal.call(
        "POST",
        "/api/v1/auth/setup",
        {"token": "wrong", "username": "root", "password": "x"},
    )
    assert status in (400, 403)
    status, tokens = portal.call(
        "POST",
        "/api/v1/auth/setup",
        {"token": token, "username": "admin", "password": "a-long-first-password"},
    )
    assert status == 201, tokens
    status, again = portal.call(
        "POST",
        "/api/v1/auth/setup",
        {"token": token, "username": "other", "password": "a-long-first-password"},
    )
    assert status == 409, again

    status, tokens = portal.call(
        "POST",
        "/api/v1/auth/login",
        {"username": "admin", "password": "a-long-first-password"},
    )
    assert status == 200
    portal.token = tokens["access"]

    status, created = portal.call(
        "POST",
        "/api/v1/containers/",
        {
            "image": test_image,
            "name": unique_name,
            "labels": LABELS,
            "command": ["sh", "-c", "echo hello from dockpilot; sleep 300"],
        },
    )
    assert status == 201, created
    assert portal.call("POST", f"/api/v1/containers/{unique_name}/start/")[0] == 200
    lines: list = []
    for _ in range(50):
        status, logs = portal.call("GET", f"/api/v1/containers/{unique_name}/logs/")
        lines = [line["text"] for line in logs["lines"]]
        if lines:
            break
        time.sleep(0.1)
    assert lines == ["hello from dockpilot"]
    stop = portal.call(
        "POST", f"/api/v1/containers/{unique_name}/stop/", {"timeout": 0}
    )
    assert stop[0] == 200
    assert portal.call("DELETE", f"/api/v1/containers/{unique_name}/")[0] == 204

    status, audit = portal.call("GET", f"/api/v1/audit/?resource_id={created['id']}")
    actions = [row["action"] for row in audit["results"]]
    assert set(actions) >= {"container.create", "container.start"}
    status, audit = portal.call("GET", "/api/v1/audit/?actor=admin&page_size=100")
    actions = {row["action"] for row in audit["results"]}
    assert {
        "auth.setup",
        "auth.login",
        "container.create",
        "container.start",
        "container.stop",
        "container.delete",
    } <= actions
