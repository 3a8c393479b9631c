"""Stacks started with the CLI outside the portal: listed, then adopted."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from apps.audit.models import AuditLog, Outcome
from tests.conftest import RUN_ID, client_for

from .conftest import compose_down

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]


def stack_text(image: str) -> str:
    return (
        "services:\n  svc:\n"
        f"    image: {image}\n    pull_policy: never\n"
        '    command: ["sleep", "300"]\n'
        f"    labels:\n      dockpilot.test: {RUN_ID}\n"
    )


@pytest.fixture
def outside_stack(tmp_path, test_image, project_name):
    """A stack brought up by hand with the CLI from a folder of its own."""
    name = project_name("outside")
    folder = tmp_path / name
    folder.mkdir()
    (folder / "compose.yaml").write_text(stack_text(test_image))
    (folder / ".env").write_text("TOKEN=a$$b\n")
    command = ["docker", "compose", "--project-name", name]
    subprocess.run(
        [*command, "up", "--detach"],
        cwd=folder,
        check=True,
        timeout=120,
        capture_output=True,
    )
    yield name, folder
    compose_down(name, str(folder))


def test_an_outside_stack_is_listed_for_admins_only(
    admin_client, operator_client, outside_stack
):
    name, folder = outside_stack
    stacks = admin_client.get("/api/v1/compose/outside/").json()["results"]
    mine = next(stack for stack in stacks if stack["name"] == name)
    assert mine["services"] == ["svc"]
    assert mine["working_dir"] == str(folder)
    assert mine["containers"][0]["state"] == "running"

    seen = operator_client.get("/api/v1/compose/outside/").json()["results"]
    assert name not in {stack["name"] for stack in seen}


def test_a_project_cannot_take_the_name_of_an_outside_stack(
    operator_client, outside_stack
):
    name, _ = outside_stack
    response = operator_client.post(
        "/api/v1/compose/", {"name": name, "compose": "services: {}\n"}, format="json"
    )
    assert response.status_code == 409
    assert "adopt" in response.json()["message"]


def test_an_admin_adopts_a_stack_from_its_working_directory(
    admin_client, operator_user, outside_stack
):
    name, folder = outside_stack
    response = admin_client.post(
        f"/api/v1/compose/outside/{name}/adopt/",
        {"owner": operator_user.username},
        format="json",
    )
    assert response.status_code == 201, response.json()
    project = response.json()
    assert project["adopted"] is True and project["owner"] == operator_user.username
    assert project["compose"] == (folder / "compose.yaml").read_text()
    assert project["env"] == "TOKEN=a$$b\n"
    assert project["status"] == "running"

    # Its containers are now the project's, and so its owner's.
    owner = client_for(operator_user)
    ps = owner.get(f"/api/v1/compose/{name}/ps/").json()
    container = ps["services"][0]["containers"][0]["id"]
    stop = owner.post(
        f"/api/v1/containers/{container}/stop/", {"timeout": 0}, format="json"
    )
    assert stop.status_code == 200, stop.json()
    listed = admin_client.get("/api/v1/compose/outside/").json()["results"]
    assert name not in {stack["name"] for stack in listed}
    row = AuditLog.objects.filter(action="compose.adopt").latest("id")
    assert row.outcome == Outcome.SUCCESS and row.details["source"] == "working_dir"


def test_a_stack_whose_files_are_gone_is_adopted_from_supplied_yaml(
    admin_client, outside_stack, test_image
):
    name, folder = outside_stack
    shutil.rmtree(folder)

    missing = admin_client.post(
        f"/api/v1/compose/outside/{name}/adopt/", {}, format="json"
    )
    assert missing.status_code == 400
    assert "give the compose file's YAML" in missing.json()["message"]

    response = admin_client.post(
        f"/api/v1/compose/outside/{name}/adopt/",
        {"compose": stack_text(test_image)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["compose"] == stack_text(test_image)


def test_only_an_admin_adopts(operator_client, outside_stack):
    name, _ = outside_stack
    response = operator_client.post(
        f"/api/v1/compose/outside/{name}/adopt/", {}, format="json"
    )
    assert response.status_code == 403
    assert AuditLog.objects.filter(
        action="compose.adopt", outcome=Outcome.FAILURE
    ).exists()
