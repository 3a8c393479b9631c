"""The pages in a real browser: Chromium driven by Playwright, against Daphne
and the real engine (fixtures in conftest.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import LABELS, RUN_ID

from .chromium import ADMIN_PASSWORD
from .conftest import VIEWER_PASSWORD, log_in, row, screenshot


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


def test_the_stats_page_draws_live_charts(portal, page, make_container, unique_name):
    tab, problems = page
    make_container(unique_name)
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + f"/containers/{unique_name}/stats/")

    # Two samples make a line; the engine sends one a second.
    expect(tab.locator("#stats")).to_have_attribute(
        "data-samples", re.compile(r"^([3-9]|\d\d+)$"), timeout=20_000
    )
    assert tab.locator("#stats canvas").count() == 4
    expect(tab.locator("[data-stat=cpu]")).to_contain_text("%")
    expect(tab.locator("[data-stat=memory]")).to_contain_text("B")
    screenshot(tab, "container-stats")
    assert problems.csp() == []


def test_echo_in_the_terminal_shows_its_result(
    portal, page, make_container, unique_name
):
    tab, problems = page
    make_container(unique_name)
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + f"/containers/{unique_name}/terminal/")
    expect(tab.locator("[data-terminal-status]")).to_have_text("Connected.")
    tab.locator("#terminal").click()
    # The shell computes 6*7: the typed line alone cannot show "dp-42-ok".
    tab.keyboard.type("echo dp-$((6*7))-ok\n")

    expect(tab.locator("#terminal .xterm-rows")).to_contain_text("dp-42-ok")
    screenshot(tab, "container-terminal")
    assert problems.csp() == []
