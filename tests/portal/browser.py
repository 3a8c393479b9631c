"""A real portal for browser tests: Daphne over a fresh data directory.

Daphne serves what production serves (ASGI, WebSockets, WhiteNoise and the
collected static files, the front-end libraries among them), so a browser
test sees the pages exactly as a user would.
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

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_PASSWORD = "a-long-browser-password"


@dataclass
class LivePortal:
    base: str
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
        except urllib.error.HTTPError:
            return  # it answers; a failing check is not ours to judge here
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("daphne did not answer /health in 60 s:\n" + log.read_text())


def start_portal(folder: Path) -> tuple[LivePortal, subprocess.Popen]:
    env = {
        **os.environ,
        "DOCKPILOT_DATA_DIR": str(folder / "data"),
        "DJANGO_SETTINGS_MODULE": "dockpilot.settings.dev",
        "DOCKPILOT_ADMIN_USERNAME": "admin",
        "DOCKPILOT_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    port = _free_port()
    portal = LivePortal(f"http://127.0.0.1:{port}", folder / "daphne.log", env)
    portal.manage("migrate", "--noinput", "-v", "0")
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


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but /usr/bin/chromium is missing: .ci/run installs it")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
