"""The values of a project's .env stay hidden from those who may only look.

A viewer reads the project with its .env masked; validating it (which
interpolates the saved values into the model and its errors) is for those
who may change it.
"""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.compose.envfile import hidden_values, hide_values, masked_env
from apps.compose.models import ComposeProject
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

SIMPLE = "services:\n  app:\n    image: dockpilot-test/none:1\n"
PEM = '"-----BEGIN KEY-----\nMULTILINESECRET\n-----END KEY-----"'
ENV = f"DB_PASSWORD=hunter2secret\nPEM={PEM}\n# a comment\nPORT=8080\n"
PROFILE_LEAK = "services:\n  app:\n    image: x\n    profiles: ['${DB_PASSWORD}']\n"
PORT_LEAK = "services:\n  app:\n    image: x\n    ports: ['${PEM}']\n"


@pytest.fixture
def project(operator_client, project_name) -> ComposeProject:
    """A project of the operator whose .env holds a password and a key."""
    name = project_name("secrets")
    response = operator_client.post(
        "/api/v1/compose/",
        {"name": name, "compose": SIMPLE, "env": ENV},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return ComposeProject.objects.get(name=name)


@pytest.fixture
def viewer(viewer_user, project):
    assign_perm("compose.view_composeproject", viewer_user, project)
    return client_for(viewer_user)


def validate(client, name: str, compose: str, **body: str):
    return client.post(
        f"/api/v1/compose/{name}/validate/", {"compose": compose, **body}, format="json"
    )


def test_a_viewer_cannot_validate_with_the_saved_env(viewer, project):
    shown = validate(viewer, project.name, PROFILE_LEAK)
    erring = validate(viewer, project.name, PORT_LEAK)

    assert shown.status_code == 403
    assert erring.status_code == 403
    for response in (shown, erring):
        assert "hunter2secret" not in response.content.decode()
        assert "MULTILINESECRET" not in response.content.decode()


def test_a_viewer_cannot_validate_even_with_an_env_of_their_own(viewer, project):
    response = validate(viewer, project.name, PROFILE_LEAK, env="DB_PASSWORD=mine\n")

    assert response.status_code == 403


def test_the_owner_validates_with_the_saved_env(operator_client, project):
    response = validate(operator_client, project.name, PROFILE_LEAK)

    assert response.status_code == 200, response.json()
    assert response.json()["profiles"] == ["hunter2secret"]


def test_a_viewer_reads_the_project_with_a_multiline_value_masked_whole(
    viewer, project
):
    body = viewer.get(f"/api/v1/compose/{project.name}/").json()

    assert body["env"] == "DB_PASSWORD=***\nPEM=***\n# a comment\nPORT=***\n"
    assert body["compose"] == SIMPLE


def test_a_viewer_sees_no_env_value_in_ps_or_logs(viewer, project):
    ps = viewer.get(f"/api/v1/compose/{project.name}/ps/")
    logs = viewer.get(f"/api/v1/compose/{project.name}/logs/")

    assert ps.status_code == 200 and logs.status_code == 200
    for response in (ps, logs):
        text = response.content.decode()
        assert "hunter2secret" not in text and "MULTILINESECRET" not in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"PEM={PEM}\nNEXT=1\n", "PEM=***\nNEXT=***\n"),
        ("KEY='one\ntwo'\n", "KEY=***\n"),
        ('KEY="say \\"hi\\"\nMORE"\n', "KEY=***\n"),
        ("export TOKEN=abc # why\n", "export TOKEN=***\n"),
        ("TOKEN: abc\n", "TOKEN:***\n"),
        ("# KEY=not a value\n\nLONE\n", "# KEY=not a value\n\nLONE\n"),
        ('OPEN="never closed\nSECRETLINE\n', "OPEN=***\n"),
    ],
)
def test_env_values_are_masked_as_compose_reads_them(text, masked):
    assert masked_env(text) == masked


def test_hidden_values_include_each_line_of_a_multiline_value():
    values = hidden_values(ENV)

    assert "hunter2secret" in values and "MULTILINESECRET" in values
    assert "-----BEGIN KEY-----\nMULTILINESECRET\n-----END KEY-----" in values
    assert "a comment" not in values


def test_a_job_line_quoting_an_env_value_shows_stars():
    line = "invalid port 'MULTILINESECRET', password hunter2secret"

    assert hide_values(line, hidden_values(ENV)) == "invalid port '***', password ***"


def test_a_viewer_reads_no_env_value_off_the_projects_containers(
    compose_worker, operator_client, viewer_user, test_image, project_name
):
    from tests.conftest import LABELS, TEST_LABEL

    from .conftest import wait_finished

    name = project_name("leak")
    compose = (
        "services:\n"
        "  app:\n"
        f"    image: {test_image}\n"
        "    pull_policy: never\n"
        "    command: ['sh', '-c', 'sleep 300 # ${DB_PASSWORD}']\n"
        "    hostname: h-${DB_PASSWORD}\n"
        "    labels:\n"
        f"      {TEST_LABEL}: {LABELS[TEST_LABEL]}\n"
        "      pw: ${DB_PASSWORD}\n"
    )
    created = operator_client.post(
        "/api/v1/compose/",
        {"name": name, "compose": compose, "env": ENV},
        format="json",
    )
    assert created.status_code == 201, created.json()
    up = operator_client.post(f"/api/v1/compose/{name}/up/", {}, format="json")
    assert wait_finished(up.json()["id"], 120).status == "succeeded"
    assign_perm(
        "compose.view_composeproject",
        viewer_user,
        ComposeProject.objects.get(name=name),
    )
    viewer = client_for(viewer_user)
    container = f"{name}-app-1"

    inspected = viewer.get(f"/api/v1/containers/{container}/")
    listed = viewer.get("/api/v1/containers/", {"name": container})

    assert inspected.status_code == 200 and listed.status_code == 200
    document = inspected.json()
    assert document["Config"]["Cmd"] == ["sh", "-c", "sleep 300 # ***"]
    assert document["Config"]["Hostname"] == "h-***"
    assert document["Config"]["Labels"]["pw"] == "***"
    [entry] = listed.json()["results"]
    assert entry["labels"]["pw"] == "***" and "hunter2secret" not in entry["command"]
    # The owner, who may change the project, reads them.
    owned = operator_client.get(f"/api/v1/containers/{container}/").json()
    assert owned["Config"]["Labels"]["pw"] == "hunter2secret"
