"""In the endpoint tests, the personas reach what the tests make on the engine.

Whatever is made straight on the engine (or by the admin) belongs to no one
the personas are, so only admins would see it. These tests are about the
endpoints, not about access (tests/permissions is): here, before each
request, the operator is granted everything on what the run made and the
viewer a look at it.
"""

import pytest
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from apps.accounts import access
from apps.containers.environments import default_environment
from tests.conftest import RUN_ID, TEST_LABEL, client_for

VERBS = ("view", "change", "delete", "operate")


def _run_objects(client) -> list[tuple[str, str]]:
    selector = {"label": f"{TEST_LABEL}={RUN_ID}"}
    volumes = client.api.volumes(filters=selector).get("Volumes") or []
    containers = client.api.containers(all=True, filters=selector)
    return [
        *(("container", c["Id"]) for c in containers),
        *(("network", n["Id"]) for n in client.api.networks(filters=selector)),
        *(("volume", v["Name"]) for v in volumes),
    ]


def _reach_all(docker_client, operator, viewer) -> None:
    environment = default_environment()
    for kind, engine_id in _run_objects(docker_client):
        row = access.ownership(environment, kind, engine_id)
        if row is None:
            row = access.record_owner(operator, environment, kind, engine_id)
        for verb in VERBS:
            assign_perm(f"containers.{verb}_resourceownership", operator, row)
        assign_perm("containers.view_resourceownership", viewer, row)


class ReachingClient(APIClient):
    def __init__(self, reach, **kwargs):
        super().__init__(**kwargs)
        self._reach = reach

    def generic(self, *args, **kwargs):
        self._reach()
        return super().generic(*args, **kwargs)


def _reaching(request, user) -> APIClient:
    if "docker_client" not in request.fixturenames:
        return client_for(user)
    docker_client = request.getfixturevalue("docker_client")
    operator = request.getfixturevalue("operator_user")
    viewer = request.getfixturevalue("viewer_user")
    client = ReachingClient(lambda: _reach_all(docker_client, operator, viewer))
    client.credentials(**client_for(user)._credentials)
    return client


@pytest.fixture
def operator_client(request, operator_user):
    return _reaching(request, operator_user)


@pytest.fixture
def viewer_client(request, viewer_user):
    return _reaching(request, viewer_user)
