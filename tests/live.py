"""A real portal for end-to-end tests: Daphne over a fresh data directory.

Daphne serves what production serves (ASGI, WebSockets, WhiteNoise), so the
tests that use it see the portal as a user or a script would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LivePortal:
    base: str
    port: int
    log: Path
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_health(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("daphne exited:\n" + log.read_text())
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; a failing check is not ours to judge here
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("daphne did not answer /health in 60 s:\n" + log.read_text())


def start_portal(
    folder: Path,
    extra_env: dict[str, str | None] | None = None,
    collect_static: bool = False,
) -> tuple[LivePortal, subprocess.Popen]:
    """Migrate a fresh data directory and start Daphne on a free port.

    ``extra_env`` adds variables; a value of None removes one inherited.
    """
    env = {
        **os.environ,
        "DOCKPILOT_DATA_DIR": str(folder / "data"),
        "DJANGO_SETTINGS_MODULE": "dockpilot.settings.dev",
    }
    for key, value in (extra_env or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    port = free_port()
    portal = LivePortal(f"http://127.0.0.1:{port}", port, folder / "daphne.log", env)
    portal.manage("migrate", "--noinput", "-v", "0")
    if collect_static:
        portal.manage("collectstatic", "--noinput", "-v", "0")

    with portal.log.open("w") as out:
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
    _wait_for_health(portal.base, process, portal.log)
    return portal, process


def stop_portal(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
