"""Chromium for browser tests, and a live portal with collected static files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests import live
from tests.live import LivePortal, stop_portal

__all__ = ["LivePortal", "start_portal", "stop_portal"]
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


def start_portal(folder: Path) -> tuple[LivePortal, subprocess.Popen]:
    """A live portal with an admin, its static files collected for pages."""
    return live.start_portal(
        folder,
        {
            "DOCKPILOT_ADMIN_USERNAME": "admin",
            "DOCKPILOT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        },
        collect_static=True,
    )


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but /usr/bin/chromium is missing: .ci/run installs it")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
