"""With the engine gone, Compose endpoints answer 503 and queue nothing."""

from __future__ import annotations

import pytest

from apps.jobs.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

SIMPLE = "services:\n  app:\n    image: dockpilot-test/none:1\n"


def test_compose_routes_answer_503_while_the_engine_is_down(
    admin_client, relay, relayed_default, project_name
):
    name = project_name("down")
    created = admin_client.post(
        "/api/v1/compose/", {"name": name, "compose": SIMPLE}, format="json"
    )
    assert created.status_code == 201, created.json()
    relay.stop()

    calls = [
        ("get", f"/api/v1/compose/{name}/ps/"),
        ("get", f"/api/v1/compose/{name}/logs/"),
        ("get", "/api/v1/compose/outside/"),
        ("post", f"/api/v1/compose/{name}/up/"),
        ("post", f"/api/v1/compose/{name}/services/app/restart/"),
        ("delete", f"/api/v1/compose/{name}/"),
    ]
    for method, path in calls:
        response = getattr(admin_client, method)(path, {}, format="json")
        assert response.status_code == 503, (path, response.content[:200])
        assert response.json()["code"] == "engine_unavailable"
    assert not Job.objects.filter(target=name).exists()
