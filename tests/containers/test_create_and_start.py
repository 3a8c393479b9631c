"""Create with start=true: a container that cannot start is not hidden."""

import pytest

from tests.conftest import LABELS

pytestmark = pytest.mark.django_db


def test_a_container_that_cannot_start_is_reported_with_its_id(
    admin_client, docker_client, test_image, unique_name
):
    # The engine accepts a missing network at create and fails at start. (An
    # admin: for anyone else the portal refuses a network they cannot see.)
    response = admin_client.post(
        "/api/v1/containers/",
        {
            "image": test_image,
            "name": unique_name,
            "labels": LABELS,
            "command": ["sleep", "30"],
            "start": True,
            "network": "dpt-no-such-net",
        },
        format="json",
    )

    body = response.json()
    assert response.status_code >= 400
    assert "was created but did not start" in body["message"]
    assert body["details"]["created"] is True
    inspected = docker_client.api.inspect_container(body["details"]["id"])
    assert inspected["Name"] == f"/{unique_name}"
