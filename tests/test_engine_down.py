"""With the engine gone, Docker endpoints answer 503 fast, and recover."""

from __future__ import annotations

import json
import re
import time

import pytest

from apps.audit.models import AuditLog, Outcome
from tests.routes import Route, api_routes

pytestmark = pytest.mark.django_db
DOCKER_ROUTES = re.compile(r"^api/v1/(containers|images|volumes|networks)\b")

# Valid bodies, so that the engine is reached instead of validation failing.
BODIES = {
    "containers": {"image": "dockpilot-test/busybox:1", "name": "dpt-down"},
    "networks": {"name": "dpt-down-net"},
    "volumes": {"name": "dpt-down-vol"},
    "rename": {"name": "dpt-down-renamed"},
    "tag": {"repository": "dpt-down/image", "tag": "1"},
    "connect": {"container": "dpt-down"},
    "disconnect": {"container": "dpt-down"},
    "pull": {"image": "dpt-down/image:1"},
    "build": {"dockerfile": "FROM scratch\n"},
}


def docker_requests() -> list[tuple[Route, str]]:
    return [
        (route, method)
        for route in api_routes()
        if DOCKER_ROUTES.match(route.pattern)
        for method in route.methods
    ]


def body_for(route: Route) -> dict:
    words = [w for w in re.split(r"[^a-z]+", route.pattern) if w]
    if route.pattern.rstrip("/?$").endswith(words[-1]) and words[-1] in BODIES:
        return BODIES[words[-1]]
    return {}


def _call(client, route: Route, method: str):
    path = route.path("dpt-down") + "?environment=relay"
    started = time.monotonic()
    response = getattr(client, method)(
        path, body_for(route) if method != "get" else None, format="json"
    )
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    "keep_socket_file", [False, True], ids=["socket-gone", "socket-refusing"]
)
def test_every_docker_endpoint_answers_503_quickly_when_the_engine_is_down(
    admin_client, relay, relayed_default, keep_socket_file
):
    assert admin_client.get("/api/v1/containers/").status_code == 200
    relay.stop(keep_file=keep_socket_file)

    checked = docker_requests()
    for route, method in checked:
        response, elapsed = _call(admin_client, route, method)
        label = f"{method.upper()} {route.pattern}"
        assert response.status_code == 503, (label, response.content[:300])
        body = json.loads(response.content)
        assert body["code"] == "engine_unavailable", label
        assert "cannot be reached" in body["message"], label
        assert elapsed < 10, (label, elapsed)
    covered = {DOCKER_ROUTES.match(route.pattern).group(1) for route, _ in checked}
    assert covered == {"containers", "images", "volumes", "networks"}


def test_refused_changes_are_audited_while_the_engine_is_down(
    admin_client, relay, relayed_default
):
    relay.stop()
    before = AuditLog.objects.count()

    response = admin_client.post("/api/v1/containers/dpt-down/start/?environment=relay")

    assert response.status_code == 503
    row = AuditLog.objects.order_by("-id").first()
    assert AuditLog.objects.count() == before + 1
    assert row.action == "container.start" and row.outcome == Outcome.FAILURE
    assert "cannot be reached" in row.reason


def test_health_says_why_and_the_portal_recovers_without_restart(
    admin_client, anon_client, relay, relayed_default
):
    assert anon_client.get("/health").status_code == 200
    relay.stop()

    health = anon_client.get("/health")
    assert health.status_code == 503
    engine = health.json()["checks"]["engine"]
    assert engine["ok"] is False and "cannot be reached" in engine["error"]
    assert health.json()["checks"]["database"]["ok"] is True

    relay.start()
    assert anon_client.get("/health").status_code == 200
    listed = admin_client.get("/api/v1/containers/?environment=relay")
    assert listed.status_code == 200


def test_portal_recovers_when_the_engine_was_down_at_first_use(
    admin_client, relay, relayed_default
):
    relay.stop()
    assert admin_client.get("/api/v1/images/").status_code == 503

    relay.start()

    assert admin_client.get("/api/v1/images/").status_code == 200
