"""A quick tunnel made, started and stopped from the pages, in a real browser.

The live portal's own Celery worker runs the jobs; it starts the stand-in
of cloudflared (``tests/tunnels/cloudflared_standin.py``, the program named
by ``DOCKPILOT_TUNNEL_CLOUDFLARED_BINARY``), which prints a trycloudflare
address as the real one does and asks the container once.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.jobs.services import start_worker, stop
from tests.tunnels.conftest import STANDIN

from .chromium import ADMIN_PASSWORD
from .conftest import log_in, screenshot

PUBLIC_URL = re.compile(r"^https://[-a-z0-9]+\.trycloudflare\.com$")
# Stops the tunnel processes a failed test may leave (the live portal's data).
STOP_LEFT_RUNNING = (
    "from apps.tunnels import supervision; "
    "from apps.tunnels.models import TunnelConfig; "
    "[supervision.terminate(supervision.Process(t.pid, t.process_started)) "
    "for t in TunnelConfig.objects.exclude(pid=None)]"
)


@pytest.fixture(scope="module")
def tunnel_worker(portal, tmp_path_factory) -> Iterator[None]:
    """A worker of the live portal that runs the stand-in as cloudflared."""
    log = tmp_path_factory.mktemp("tunnel-worker") / "worker.log"
    env = {**portal.env, "DOCKPILOT_TUNNEL_CLOUDFLARED_BINARY": str(STANDIN)}
    process = start_worker(env, log, "dpt-tunnel-pages")
    yield
    with contextlib.suppress(Exception):
        portal.manage("shell", "-c", STOP_LEFT_RUNNING)
    stop(process)


@pytest.fixture
def web_container(make_container, docker_client, unique_name) -> str:
    """A container serving HTTP on 8080, published on loopback."""
    make_container(
        unique_name,
        command=[
            "sh",
            "-c",
            "mkdir -p /www && echo hi > /www/index.html "
            "&& exec httpd -f -p 8080 -h /www",
        ],
        ports=[8080],
        host_config=docker_client.api.create_host_config(
            port_bindings={8080: ("127.0.0.1", None)}
        ),
    )
    return unique_name


def test_a_quick_tunnel_shows_its_public_url_then_stops(
    portal, tunnel_worker, page, web_container
):
    tab, problems = page
    log_in(tab, portal, "admin", ADMIN_PASSWORD)
    tab.goto(portal.base + "/tunnels/")
    tab.get_by_role("link", name="New tunnel").click()

    tab.fill("input[name=name]", "web-browser")
    tab.select_option("select[name=provider_choice]", "cloudflare_quick")
    # The fields of the other providers hide once the provider is chosen.
    expect(tab.locator("input[name=host]")).to_be_hidden()
    tab.select_option("select[name=container]", web_container)
    tab.fill("input[name=target_port]", "8080")
    tab.click("main button[type=submit]")
    tab.wait_for_url(re.compile(r".*/tunnels/\d+/$"))
    expect(tab.locator("[data-tunnel-status]")).to_have_text("stopped")

    tab.click("[data-tunnel-start]")
    # The status polls in place: the address appears without a reload.
    link = tab.locator("[data-tunnel-url] a")
    expect(link).to_have_text(PUBLIC_URL, timeout=30_000)
    expect(tab.locator("[data-tunnel-status]")).to_have_text("running")
    expect(tab.locator("#job [data-job-status]")).to_have_text("succeeded")
    expect(tab.locator("#job-output")).to_contain_text("is up at https://")
    expect(tab.locator("#tunnel-output")).to_contain_text("answered 200")
    screenshot(tab, "tunnel-running")
    url = link.inner_text()

    tab.goto(portal.base + "/tunnels/")
    row = tab.locator("tr[data-tunnel='web-browser']")
    expect(row.locator("a", has_text=url)).to_have_attribute("href", url)
    row.locator("a", has_text="web-browser").click()

    tab.click("[data-tunnel-stop]")
    expect(tab.locator("[data-tunnel-status]")).to_have_text("stopped", timeout=30_000)
    expect(tab.locator("[data-tunnel-url]")).to_have_text("—")
    expect(tab.locator("#job [data-job-status]")).to_have_text("succeeded")

    # Deleting asks first, naming the tunnel and what goes at the provider.
    asked = []
    tab.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    tab.click("[data-tunnel-delete]")
    tab.wait_for_url(portal.base + "/tunnels/")
    assert "web-browser" in asked[0] and "provider" in asked[0]
    expect(tab.locator("tr[data-tunnel='web-browser']")).to_have_count(0)
    assert problems.csp() == []
