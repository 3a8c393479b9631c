"""Who may see and operate a project, and the containers it started.

The containers here carry the Compose labels a deploy writes (project name
and directory); the deploy itself is proven in test_deploy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from guardian.shortcuts import assign_perm

from apps.accounts.models import Role
from apps.audit.models import AuditLog
from apps.compose.models import ComposeProject
from tests.conftest import RUN_ID, client_for, grant_environment, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

SIMPLE = "services:\n  app:\n    image: dockpilot-test/none:1\n"


def labelled(docker_client, image: str, name: str, labels: dict[str, str]) -> str:
    """A running container with the given Compose labels, straight on the engine."""
    created = docker_client.api.create_container(
        image,
        command=["sleep", "300"],
        name=name,
        labels=labels,
        environment=["TOKEN=s3cret"],
    )
    docker_client.api.start(created["Id"])
    return created["Id"]


@pytest.fixture
def project(operator_client, project_name, docker_client, test_image):
    """A project of the operator, with one running container of its own."""
    name = project_name("access")
    response = operator_client.post(
        "/api/v1/compose/",
        {"name": name, "compose": SIMPLE, "env": "TOKEN=pa$$word\n"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["env"] == "TOKEN=pa$$word\n"
    container = labelled(
        docker_client,
        test_image,
        f"{name}-app-1",
        labels={
            "dockpilot.test": RUN_ID,
            "com.docker.compose.project": name,
            "com.docker.compose.project.working_dir": str(
                Path(settings.DATA_DIR) / "projects" / name
            ),
            "com.docker.compose.service": "app",
        },
    )
    return ComposeProject.objects.get(name=name), container


@pytest.fixture
def colleague():
    user = make_user("olga-operator", Role.OPERATOR)
    grant_environment(user, ("view", "operate"))
    return user


def listed(client) -> set[str]:
    response = client.get("/api/v1/containers/")
    assert response.status_code == 200
    return {item["id"] for item in response.json()["results"]}


def test_the_owner_of_a_project_operates_its_containers(operator_client, project):
    _, container = project
    assert container in listed(operator_client)
    response = operator_client.post(
        f"/api/v1/containers/{container}/restart/", {"timeout": 0}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_an_operator_without_a_grant_sees_neither_project_nor_containers(
    colleague, project
):
    row, container = project
    client = client_for(colleague)

    assert client.get(f"/api/v1/compose/{row.name}/").status_code == 404
    assert client.post(f"/api/v1/compose/{row.name}/up/", {}).status_code == 404
    assert container not in listed(client)
    restart = client.post(f"/api/v1/containers/{container}/restart/", {})
    assert restart.status_code == 404
    assert row.name not in {
        p["name"] for p in client.get("/api/v1/compose/").json()["results"]
    }


def test_a_grant_on_the_project_reaches_its_containers(colleague, project):
    row, container = project
    assign_perm("compose.view_composeproject", colleague, row)
    assign_perm("compose.operate_composeproject", colleague, row)
    client = client_for(colleague)

    assert client.get(f"/api/v1/compose/{row.name}/").status_code == 200
    assert container in listed(client)
    response = client.post(
        f"/api/v1/containers/{container}/restart/", {"timeout": 0}, format="json"
    )
    assert response.status_code == 200
    # Operate is not change: the compose file stays the owner's.
    edit = client.patch(f"/api/v1/compose/{row.name}/", {"env": "A=1"}, format="json")
    assert edit.status_code == 403


def env_of(client, container: str) -> list[str]:
    response = client.get(f"/api/v1/containers/{container}/")
    assert response.status_code == 200
    return [e for e in response.json()["Config"]["Env"] if e.startswith("TOKEN=")]


def test_who_may_change_the_project_sees_its_containers_env_values(
    operator_client, colleague, project
):
    row, container = project
    assign_perm("compose.view_composeproject", colleague, row)
    assign_perm("compose.operate_composeproject", colleague, row)

    assert env_of(operator_client, container) == ["TOKEN=s3cret"]
    assert env_of(client_for(colleague), container) == ["TOKEN=***"]


def test_a_viewer_granted_the_project_reads_but_cannot_deploy(viewer_user, project):
    row, container = project
    assign_perm("compose.view_composeproject", viewer_user, row)
    assign_perm("compose.operate_composeproject", viewer_user, row)
    client = client_for(viewer_user)

    assert client.get(f"/api/v1/compose/{row.name}/ps/").status_code == 200
    # .env holds secrets: masked for whoever may not change the project.
    assert client.get(f"/api/v1/compose/{row.name}/").json()["env"] == "TOKEN=***\n"
    assert client.get(f"/api/v1/containers/{container}/").status_code == 200
    refused = client.post(f"/api/v1/compose/{row.name}/up/", {}, format="json")
    assert refused.status_code == 403
    audit = AuditLog.objects.filter(action="compose.up").latest("id")
    assert (audit.outcome, audit.resource_id) == ("failure", row.name)
    stop = client.post(f"/api/v1/containers/{container}/stop/", {}, format="json")
    assert stop.status_code == 403


def test_a_container_that_only_borrows_the_project_name_is_not_the_projects(
    operator_client, project, docker_client, test_image
):
    row, _ = project
    stranger = labelled(
        docker_client,
        test_image,
        f"{row.name}-stranger",
        labels={
            "dockpilot.test": RUN_ID,
            "com.docker.compose.project": row.name,
            "com.docker.compose.project.working_dir": "/somewhere/else",
            "com.docker.compose.service": "app",
        },
    )
    assert stranger not in listed(operator_client)
    response = operator_client.post(f"/api/v1/containers/{stranger}/stop/", {})
    assert response.status_code == 404


def test_the_owner_grants_and_revokes_a_project_through_the_api(
    operator_client, colleague, project
):
    row, container = project
    ids = []
    for verb in ("view", "operate"):
        response = operator_client.post(
            "/api/v1/grants/",
            {
                "permission": verb,
                "object_type": "compose_project",
                "object_id": row.name,
                "user": colleague.username,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        ids.append(response.json()["object_id"])
    assert ids == [row.name, row.name]
    client = client_for(colleague)
    assert container in listed(client)

    grants = operator_client.get("/api/v1/grants/").json()
    grants = grants["results"] if isinstance(grants, dict) else grants
    for grant in grants:
        if grant["object_type"] == "compose_project":
            deleted = operator_client.delete(f"/api/v1/grants/{grant['id']}/")
            assert deleted.status_code == 204
    assert container not in listed(client)
    assert client.get(f"/api/v1/compose/{row.name}/").status_code == 404
