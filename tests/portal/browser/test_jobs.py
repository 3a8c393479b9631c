"""Pulls, builds and the jobs dashboard in a real browser, with a real Celery
worker beside the live portal and a registry on loopback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import LABELS, RUN_ID
from tests.jobs.services import SlowProxy, start_registry, stop

from .chromium import ADMIN_PASSWORD
from .conftest import job_diagnosis, log_in, screenshot

LAYER_BYTES = 3_000_000
# The registry's answers are slowed to this (bytes/s) on the way to the
# engine, so the pull lasts a few seconds and the page sees it under way.
PULL_RATE = 1_500_000


@pytest.fixture(scope="module")
def registry_image(docker_client, tmp_path_factory) -> Iterator[str]:
    """A two-layer image pushed to a loopback registry, then dropped locally;
    its reference goes through a throttled proxy to that registry."""
    folder = tmp_path_factory.mktemp("pages-registry")
    registry = start_registry(folder / "registry")
    context = folder / "context"
    context.mkdir()
    # Random bytes do not compress: each layer is this large on the wire.
    (context / "one").write_bytes(os.urandom(LAYER_BYTES))
    (context / "two").write_bytes(os.urandom(LAYER_BYTES))
    (context / "Dockerfile").write_text("FROM scratch\nCOPY one /one\nCOPY two /two\n")
    repository = f"{registry.host}/dpt-{RUN_ID}/pages"
    docker_client.images.build(
        path=str(context), tag=f"{repository}:1", labels=LABELS, rm=True
    )
    for line in docker_client.api.push(repository, "1", stream=True, decode=True):
        assert "error" not in line, line
    docker_client.api.remove_image(f"{repository}:1", force=True)
    proxy = SlowProxy(target=registry.port, rate=PULL_RATE)
    proxy.start()
    slow = f"127.0.0.1:{proxy.port}/dpt-{RUN_ID}/pages:1"
    yield slow
    with contextlib.suppress(Exception):
        docker_client.api.remove_image(slow, force=True)
    proxy.stop()
    stop(registry.process)


def test_a_pull_shows_every_layer_reach_100_percent(
    portal, portal_worker, page, registry_image
):
    tab, problems = page
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + "/images/")
    tab.locator("a", has_text="Pull").first.click()
    tab.fill("input[name=image]", registry_image)
    tab.click("main button[type=submit]")
    tab.wait_for_url("**/jobs/*/")

    try:
        expect(tab.locator("h1 [data-job-status]")).to_have_text(
            "succeeded", timeout=60_000
        )
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\n{job_diagnosis(tab, portal, portal_worker)}"
        ) from exc
    expect(tab.locator("[data-job-percent]")).to_have_text("100 %")
    bars = tab.locator("#layers tr[data-layer] progress")
    expect(bars).to_have_count(2)
    for index in range(2):
        expect(bars.nth(index)).to_have_attribute("value", "100")
    expect(tab.locator("#job-output")).to_contain_text("Pull complete")
    screenshot(tab, "job-pull")

    tab.goto(portal.base + "/jobs/?kind=pull")
    expect(tab.locator("tr[data-job]").first).to_contain_text(registry_image)
    screenshot(tab, "jobs")
    assert problems.csp() == []


def test_a_build_streams_its_output(portal, portal_worker, page, test_image):
    tab, problems = page
    log_in(tab, portal, "admin", ADMIN_PASSWORD)

    tab.goto(portal.base + "/images/build/")
    tab.fill("input[name=tags]", f"dpt-{RUN_ID}/built:1")
    tab.fill(
        "textarea[name=dockerfile]",
        f"FROM {test_image}\nRUN echo built-by-the-page-$((6*7))\n",
    )
    tab.fill("textarea[name=labels]", f"dockpilot.test={RUN_ID}")
    tab.click("main button[type=submit]")
    tab.wait_for_url("**/jobs/*/")

    try:
        expect(tab.locator("#job-output")).to_contain_text("built-by-the-page-42")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\n{job_diagnosis(tab, portal, portal_worker)}"
        ) from exc
    expect(tab.locator("h1 [data-job-status]")).to_have_text(
        "succeeded", timeout=60_000
    )
    assert problems.csp() == []
