"""A newcomer's first session, against a real Daphne server and engine.

Migrate a fresh data directory, start the server, read the setup token from
its log, create the first admin, log in, run a container's whole life and
find every step in the audit log.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LABELS
from tests.live import start_portal, stop_portal


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


@pytest.fixture
def portal(tmp_path: Path, docker_client) -> Iterator[Portal]:
    # No admin from the environment: the first one comes through set-up.
    live, process = start_portal(tmp_path, {"DOCKPILOT_ADMIN_PASSWORD": None})
    try:
        yield Portal(live.base, live.log)
    finally:
        stop_portal(process)


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
