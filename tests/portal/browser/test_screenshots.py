"""Screenshots of the main pages in the light and the dark theme, and on a
phone-width screen, written to artifacts/screenshots/ for a person to check.

Each page must load without a Content-Security-Policy violation, follow the
system's colour scheme, and fit a phone's width without scrolling sideways.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.compose.conftest import project_name

from .chromium import ADMIN_PASSWORD
from .conftest import (
    compose_file,
    create_project,
    deploy,
    log_in,
    open_tab,
    screenshot,
)

__all__ = ["project_name"]  # the fixture: each project is brought down after

# Page backgrounds of the two themes (--bg in portal.css).
BACKGROUNDS = {"light": "rgb(245, 247, 250)", "dark": "rgb(15, 20, 27)"}
PHONE = {"width": 390, "height": 844}
# The elements that stick out past a phone's width, to name in a failure.
WIDE = """Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 6).map((e) => e.tagName + "." + e.className)"""


def main_pages(container: str, project: str) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/"),
        ("containers", "/containers/"),
        ("container", f"/containers/{container}/"),
        ("container-logs", f"/containers/{container}/logs/"),
        ("container-stats", f"/containers/{container}/stats/"),
        ("container-terminal", f"/containers/{container}/terminal/"),
        ("container-create", "/containers/new/"),
        ("images", "/images/"),
        ("image-pull", "/images/pull/"),
        ("image-build", "/images/build/"),
        ("jobs", "/jobs/"),
        ("compose", "/compose/"),
        ("compose-project", f"/compose/{project}/"),
        ("compose-logs", f"/compose/{project}/logs/"),
        ("compose-create", "/compose/new/"),
        ("volumes", "/volumes/"),
        ("networks", "/networks/"),
        ("environments", "/environments/"),
        ("audit", "/audit/"),
        ("users", "/users/"),
        ("teams", "/teams/"),
        ("grants", "/grants/"),
        ("tokens", "/tokens/"),
        ("password", "/password/"),
    ]


def tunnel_pages(portal, container_id: str) -> list[tuple[str, str]]:
    """The tunnels list and one tunnel's page, with a stopped quick tunnel
    stored for the container (its worker is not needed to show it)."""
    pk = portal.manage(
        "shell",
        "-c",
        "from apps.containers.environments import default_environment; "
        "from apps.tunnels.models import TunnelConfig; "
        "t, _ = TunnelConfig.objects.update_or_create(name='screenshot-web', "
        "environment=default_environment(), defaults=dict("
        f"provider='cloudflare_quick', container_id='{container_id}', "
        "container_name='web', target_port=8080)); print(t.pk)",
    ).split()[-1]  # after the shell's own line about its imports
    return [
        ("tunnels", "/tunnels/"),
        ("tunnel", f"/tunnels/{pk}/"),
        ("tunnel-create", "/tunnels/new/"),
    ]


def settle(tab, name: str) -> None:
    """Wait for what a page draws live before taking its picture."""
    if name == "container-stats":
        expect(tab.locator("#stats")).to_have_attribute(
            "data-samples", re.compile(r"^[2-9]|\d\d+$")
        )
    if name == "container-terminal":
        expect(tab.locator("[data-terminal-status]")).to_have_text("Connected.")
        # The shell's prompt: its output has reached the terminal.
        expect(tab.locator("#terminal .xterm-rows")).to_contain_text("#")
    if name == "compose-project":
        # The deploy's output is replayed from its first chunk.
        expect(tab.locator("#job-output")).to_contain_text("Started")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_main_page_in_both_themes(
    portal,
    portal_worker,
    browser,
    make_container,
    unique_name,
    test_image,
    project_name,
    theme,
):
    container_id = make_container(
        unique_name, command=["sh", "-c", "echo ready; sleep 300"]
    )
    project = project_name(f"shot-{theme}")
    context, tab, problems = open_tab(browser, color_scheme=theme)
    try:
        tab.goto(portal.base + "/login/")
        screenshot(tab, f"login-{theme}", full_page=False, folder="")
        log_in(tab, portal, "admin", ADMIN_PASSWORD)
        create_project(tab, portal, project, compose_file(test_image))
        deploy(tab)
        pages = main_pages(unique_name, project) + tunnel_pages(portal, container_id)
        for name, path in pages:
            response = tab.goto(portal.base + path)
            assert response is not None and response.status == 200, path
            settle(tab, name)
            background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == BACKGROUNDS[theme], (path, background)
            # Lists can be long on a shared engine: the first screenful counts.
            screenshot(tab, f"{name}-{theme}", full_page=False, folder="")
        assert problems.csp() == []
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_main_pages_fit_a_phone(portal, browser, theme):
    context, tab, problems = open_tab(browser, color_scheme=theme, viewport=PHONE)
    try:
        log_in(tab, portal, "admin", ADMIN_PASSWORD)
        for name, path in [
            ("dashboard", "/"),
            ("containers", "/containers/"),
            ("jobs", "/jobs/"),
            ("compose", "/compose/"),
        ]:
            tab.goto(portal.base + path)
            # Wide tables scroll inside their own box; the page itself does not.
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width, tab.evaluate(WIDE))
            screenshot(tab, f"{name}-phone-{theme}", full_page=False, folder="")
        assert problems.csp() == []
    finally:
        context.close()


def test_the_language_switcher_turns_the_pages_spanish(portal, browser):
    context, tab, problems = open_tab(browser, color_scheme="light")
    try:
        log_in(tab, portal, "admin", ADMIN_PASSWORD)
        tab.select_option("#language-select", "es")

        expect(tab.locator("h1")).to_have_text("Panel")
        expect(tab.locator("nav.sidebar")).to_contain_text("Contenedores")
        screenshot(tab, "dashboard-es-light", full_page=False, folder="")
        tab.goto(portal.base + "/jobs/")
        expect(tab.locator("h1")).to_contain_text("Tareas")
        screenshot(tab, "jobs-es-light", full_page=False, folder="")
        assert problems.csp() == []
    finally:
        context.close()
