"""Fixtures of the browser tests: a live portal, Chromium, logged-in tabs.

Screenshots go to ``artifacts/screenshots/`` at the top of the repository
(git ignores it), for a person to look at; their paths are printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.services import start_worker, stop

from .chromium import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    LivePortal,
    require_chromium,
    start_portal,
    stop_portal,
)

__all__ = ["ADMIN_PASSWORD"]

playwright_api = pytest.importorskip("playwright.sync_api")
# Live data takes a few seconds; every wait stays bounded.
playwright_api.expect.set_options(timeout=15_000)

VIEWER_PASSWORD = "a-long-viewer-password"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
# Collects Content-Security-Policy violations the page reports, before any
# page script runs (Playwright's init scripts are not subject to the CSP).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="session")
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
def portal_worker(portal, tmp_path_factory) -> Iterator[Path]:
    """A Celery worker of the live portal (same data directory and broker);
    its log's path, for a failing test to show."""
    log = tmp_path_factory.mktemp("portal-worker") / "worker.log"
    process = start_worker(portal.env, log, "dpt-pages")
    yield log
    stop(process)


# Package scope: Playwright's sync API keeps an event loop running in this
# thread while it is open, and the asyncio tests that follow need none.
@pytest.fixture(scope="package")
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


def job_diagnosis(tab: Any, portal: LivePortal, worker_log: Path) -> str:
    """What a job page's test needs to say when the page did not follow its
    job: the job as the API sees it, and the ends of the portal's and the
    worker's logs. It tells a job no worker ran from a page that lost its
    live updates."""
    job_id = tab.url.rstrip("/").rsplit("/", 1)[-1]
    answer = tab.evaluate(
        "async (id) => { const r = await fetch('/api/v1/jobs/' + id + '/');"
        " return r.status + ' ' + (await r.text()); }",
        job_id,
    )
    portal_tail = portal.log.read_text(errors="replace").splitlines()[-40:]
    worker_tail = worker_log.read_text(errors="replace").splitlines()[-40:]
    lines = [f"job {job_id} through the API: {answer[:2000]}", "portal log:"]
    return "\n".join([*lines, *portal_tail, "worker log:", *worker_tail])


def open_tab(browser: Any, **options: Any) -> tuple[Any, Any, Problems]:
    """A new browser context (its own cookies) and a tab that records problems."""
    context = browser.new_context(
        **{"viewport": {"width": 1360, "height": 860}, **options}
    )
    context.add_init_script(CSP_PROBE)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    return context, tab, Problems(tab)


@pytest.fixture
def page(browser) -> Iterator[tuple[Any, Problems]]:
    context, tab, problems = open_tab(browser)
    yield tab, problems
    context.close()


def log_in(tab: Any, portal: LivePortal, username: str, password: str) -> None:
    tab.goto(portal.base + "/")
    assert "/login/" in tab.url
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(portal.base + "/")


def screenshot(
    tab: Any, name: str, full_page: bool = True, folder: str = "flows"
) -> Path:
    """Write a PNG under artifacts/screenshots/<folder>/ and print its path."""
    target = SCREENSHOTS / folder if folder else SCREENSHOTS
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


def row(tab: Any, name: str) -> Any:
    return tab.locator(f"tr[data-container='{name}']")


def compose_file(image: str, greeting: str = "hello") -> str:
    """A project of one long-running service and a one-shot, nothing pulled."""
    from tests.conftest import RUN_ID, TEST_LABEL

    labels = f"    labels:\n      {TEST_LABEL}: {RUN_ID}\n"
    return (
        "services:\n"
        "  web:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        # busybox sh as PID 1 ignores SIGTERM unless it traps it.
        f'    command: ["sh", "-c", "trap \'exit 0\' TERM; echo {greeting}; '
        'sleep 300 & wait"]\n'
        f"{labels}"
        "  init:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        '    command: ["sh", "-c", "echo init done"]\n'
        f"{labels}"
    )


def create_project(tab: Any, portal: LivePortal, name: str, text: str) -> None:
    """Create a Compose project through its form; the project's page opens."""
    tab.goto(portal.base + "/compose/new/")
    tab.fill("input[name=name]", name)
    tab.fill("textarea[name=compose]", text)
    with tab.expect_navigation():
        tab.click("main form button[type=submit]")
    assert tab.url == f"{portal.base}/compose/{name}/", tab.url


def deploy(tab: Any) -> None:
    """Press Deploy on a project's page and wait for its job to succeed."""
    with tab.expect_navigation():
        tab.click("[data-project-action=up]")
    playwright_api.expect(tab.locator("#job [data-job-status]")).to_have_text(
        "succeeded", timeout=60_000
    )
    playwright_api.expect(tab.locator("h1 [data-project-status]")).to_have_text(
        "running"
    )
