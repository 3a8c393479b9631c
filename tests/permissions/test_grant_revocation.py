"""Holding a permission does not let one take it back from others."""

import pytest

from apps.accounts.models import Role
from tests.conftest import client_for, grant_environment, make_user

pytestmark = pytest.mark.django_db


def _entries(client) -> list[dict]:
    listed = client.get("/api/v1/grants/").json()
    return listed["results"] if isinstance(listed, dict) else listed


def test_an_operator_cannot_see_or_revoke_another_operators_environment_grant(
    admin_client, operator_client
):
    bob = make_user("bob-operator", Role.OPERATOR)
    granted = admin_client.post(
        "/api/v1/grants/",
        {
            "permission": "operate",
            "object_type": "environment",
            "object_id": "local",
            "user": bob.username,
        },
        format="json",
    )
    assert granted.status_code == 201, granted.json()
    grant_id = next(
        entry["id"]
        for entry in _entries(admin_client)
        if entry.get("user") == bob.username and entry["permission"] == "operate"
    )

    seen = {entry["id"] for entry in _entries(operator_client)}
    revoked = operator_client.delete(f"/api/v1/grants/{grant_id}/")

    assert grant_id not in seen
    assert revoked.status_code == 404
    grant_environment(bob, ("view",))
    assert client_for(bob).get("/api/v1/containers/").status_code == 200
