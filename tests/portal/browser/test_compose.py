"""Compose projects in a real browser: created from the form, deployed by a
real worker with the real CLI, their output followed on the project's page;
a bad file shown at its line."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.compose.conftest import project_name

from .chromium import ADMIN_PASSWORD
from .conftest import compose_file, create_project, deploy, log_in, screenshot

__all__ = ["project_name"]  # the fixture: each project is brought down after


def test_a_project_deploys_and_its_output_shows_on_its_page(
    portal, portal_worker, page, test_image, project_name
):
    tab, problems = page
    name = project_name("browser")
    log_in(tab, portal, "admin", ADMIN_PASSWORD)
    create_project(tab, portal, name, compose_file(test_image))

    deploy(tab)

    output = tab.locator("#job-output")
    expect(output).to_contain_text("$ docker compose up --detach --no-build --")
    expect(output).to_contain_text("Started")
    expect(output).to_contain_text(f"project {name}: running")
    # The services table is read again when the job ends, without a reload.
    expect(tab.locator("#ps tr[data-service=web] [data-service-state]")).to_have_text(
        "running"
    )
    screenshot(tab, "compose-deployed")

    tab.goto(portal.base + f"/compose/{name}/logs/")
    expect(tab.locator("#project-logs")).to_contain_text("init done")
    expect(tab.locator("#project-logs")).to_contain_text("web | hello")
    # The one-shot has printed its line: it is finished, not failed.
    assert one_shot_state(tab, portal, name) == "finished"
    # Its container's marker is not the red one of a failed container.
    marker = tab.locator("#ps tr[data-service=init] a.state").first
    expect(marker).to_have_class(re.compile(r"\bstate-clean-exit\b"))
    colour = marker.evaluate("a => getComputedStyle(a, '::before').backgroundColor")
    failed = tab.locator("#ps tr[data-service=web] a.state").first.evaluate(
        "a => { a.classList.add('state-exited');"
        " return getComputedStyle(a, '::before').backgroundColor; }"
    )
    assert colour != failed
    assert problems.csp() == []


def one_shot_state(tab, portal, name: str) -> str:
    """The state of the ``init`` service, read again until it has exited."""
    state = ""
    for _ in range(20):
        tab.goto(portal.base + f"/compose/{name}/")
        state = tab.locator("#ps tr[data-service=init] [data-service-state]")
        state = state.inner_text().strip()
        if state != "running":
            break
        tab.wait_for_timeout(500)
    return state


def test_bringing_a_project_down_names_what_goes(
    portal, portal_worker, page, test_image, project_name
):
    tab, problems = page
    name = project_name("down")
    log_in(tab, portal, "admin", ADMIN_PASSWORD)
    create_project(tab, portal, name, compose_file(test_image))
    deploy(tab)
    asked: list[str] = []
    tab.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))

    tab.check("[data-down-option=volumes]")
    with tab.expect_navigation():
        tab.click("#down-form [data-project-action=down]")

    assert len(asked) == 1 and name in asked[0]
    assert "containers and networks" in asked[0] and "volumes" in asked[0]
    expect(tab.locator("#job [data-job-status]")).to_have_text(
        "succeeded", timeout=60_000
    )
    expect(tab.locator("#job-output")).to_contain_text("down --volumes")
    expect(tab.locator("h1 [data-project-status]")).to_have_text("down")
    assert problems.csp() == []


def test_a_bad_compose_file_is_shown_at_its_line(
    portal, page, test_image, project_name
):
    tab, problems = page
    name = project_name("invalid")
    log_in(tab, portal, "admin", ADMIN_PASSWORD)
    create_project(tab, portal, name, compose_file(test_image))

    # Line 4 loses its indentation: the YAML breaks there.
    lines = compose_file(test_image).splitlines()
    lines[3] = lines[3].strip()
    tab.fill("textarea[name=compose]", "\n".join(lines) + "\n")
    with tab.expect_navigation():
        tab.click("button[name=intent][value=save]")

    error = tab.locator("#files .field-error")
    expect(error).to_contain_text("line ")
    line = error.get_attribute("data-error-line")
    assert line is not None and line in error.inner_text()
    expect(tab.locator(f".editor .gutter [data-line='{line}']")).to_have_class(
        "error-line"
    )
    expect(tab.locator(".editor .gutter .error-line")).to_have_count(1)
    screenshot(tab, "compose-invalid")
    assert problems.csp() == []
