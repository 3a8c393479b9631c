"""The pages in a real browser: Chromium driven by Playwright, against Daphne
and the real engine. Screenshots go to the temporary directory for a person
to look at (their paths are printed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LABELS, RUN_ID

from .browser import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    LivePortal,
    require_chromium,
    start_portal,
    stop_portal,
)

playwright_api = pytest.importorskip("playwright.sync_api")

VIEWER_PASSWORD = "a-long-viewer-password"
SCREENSHOTS = Path(tempfile.gettempdir()) / "dockpilot-screenshots"
# Collects Content-Security-Policy violations the page reports, before any
# page script runs (Playwright's init scripts are not subject to the CSP).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory, docker_client) -> Iterator[LivePortal]:
    require_chromium()
    live, process = start_portal(tmp_path_factory.mktemp("portal"))
    live.manage(
        "shell",
        "-c",
        "from apps.accounts.models import User; "
        "from apps.containers.environments import default_environment; "
        "from guardian.shortcuts import assign_perm; "
        f"u = User.objects.create_user('vera', password='{VIEWER_PASSWORD}', "
        "role='viewer'); "
        "assign_perm('containers.view_environment', u, default_environment())",
    )
    try:
        yield live
    finally:
        stop_portal(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Problems:
    """Console errors and CSP violations seen by a page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console.append(message.text)

    def csp(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations || []")
        logged = [text for text in self.console if "Content Security Policy" in text]
        return reported + logged


@pytest.fixture
def page(browser) -> Iterator[tuple[Any, Problems]]:
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    context.add_init_script(CSP_PROBE)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems = Problems(tab)
    yield tab, problems
    context.close()


def log_in(tab: Any, portal: LivePortal, username: str, password: str) -> None:
    tab.goto(portal.base + "/")
    assert "/login/" in tab.url
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(portal.base + "/")


def screenshot(tab: Any, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


def row(tab: Any, name: str) -> Any:
    return tab.locator(f"tr[data-container='{name}']")


def test_an_admin_logs_in_and_sees_the_dashboard_under_the_csp(portal, page):
    tab, problems = page
    response = tab.goto(portal.base + "/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    assert tab.locator("h1", has_text="Dashboard").is_visible()
    assert tab.locator(".tile", has_text="running").is_visible()
    assert tab.locator("a[href='/api/docs/']").count() == 1
    screenshot(tab, "dashboard")
    assert problems.csp() == []


def test_an_admin_creates_starts_stops_and_reads_a_container(
    portal, page, test_image, unique_name
):
    tab, problems = page
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + "/containers/new/")
    tab.fill("input[name=image]", test_image)
    tab.fill("input[name=name]", unique_name)
    tab.fill(
        "input[name=command]",
        "sh -c 'echo hello from the page; i=0; "
        "while true; do i=$((i+1)); echo tick $i; sleep 1; done'",
    )
    tab.fill("textarea[name=labels]", f"dockpilot.test={RUN_ID}")
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"**/containers/{unique_name}/")
    assert tab.locator("h1 [data-state]").inner_text() == "running"

    # Stop and start from the list: htmx swaps the table, the page stays.
    tab.goto(portal.base + "/containers/?q=" + unique_name)
    tab.evaluate("window.__samePage = true")
    row(tab, unique_name).locator("button[data-action=stop]").click()
    row(tab, unique_name).locator("[data-state]", has_text="exited").wait_for()
    row(tab, unique_name).locator("button[data-action=start]").click()
    row(tab, unique_name).locator("[data-state]", has_text="running").wait_for()
    assert tab.evaluate("window.__samePage") is True
    assert "started" in tab.locator("#flash").inner_text()
    tab.goto(portal.base + "/containers/")
    # The engine may hold many containers: the first screenful is what counts.
    screenshot(tab, "containers", full_page=False)

    # The log shows what it printed, then follows what it prints next.
    tab.goto(portal.base + f"/containers/{unique_name}/logs/")
    assert "hello from the page" in tab.locator("#log-lines").inner_text()
    lines = tab.locator("#log-lines .line")
    before = lines.count()
    # Polled from here: a predicate string would be eval'd, which the CSP
    # forbids (as it should).
    for _ in range(100):
        if lines.count() > before:
            break
        tab.wait_for_timeout(200)
    assert lines.count() > before, "no live log line arrived in 20 s"
    assert lines.last.inner_text().startswith("tick ")
    screenshot(tab, "container-logs")
    assert problems.csp() == []


def test_a_create_error_is_shown_next_to_its_field(portal, page, docker_client):
    tab, problems = page
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + "/containers/new/")
    tab.fill("input[name=image]", "dockpilot-test/not-here:404")
    tab.fill("textarea[name=labels]", f"dockpilot.test={LABELS['dockpilot.test']}")
    tab.click("main button[type=submit]")

    error = tab.locator(".field.has-error", has=tab.locator("input[name=image]"))
    assert "pull or build it first" in error.locator(".field-error").inner_text()
    assert problems.csp() == []


def test_a_viewer_sees_no_change_buttons(portal, page):
    tab, problems = page
    log_in(tab, portal, "vera", VIEWER_PASSWORD)

    tab.goto(portal.base + "/containers/")
    assert tab.locator("a", has_text="New container").count() == 0
    assert tab.locator("button[data-action]").count() == 0
    assert tab.locator("nav a", has_text="Audit log").count() == 0
    assert problems.csp() == []
