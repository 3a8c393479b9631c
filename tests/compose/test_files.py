"""Saving and validating compose files: lines in errors, names, text kept as typed.

No worker runs in this module: a job queued here stays queued.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from apps.audit.models import AuditLog, Outcome
from tests.conftest import RUN_ID

from .conftest import compose_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

SIMPLE = "services:\n  app:\n    image: dockpilot-test/none:1\n"


def post(client, name: str, compose: str, env: str = ""):
    return client.post(
        "/api/v1/compose/",
        {"name": name, "compose": compose, "env": env},
        format="json",
    )


def test_invalid_yaml_is_refused_with_its_line(admin_client, project_name):
    broken = "services:\n  app:\n    image: x\n    command: [sh, -c\n  other: {}\n"
    response = post(admin_client, project_name("yaml"), broken)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_compose"
    assert body["details"]["line"] == 5
    assert body["message"].startswith("compose file, line 5:")


def test_an_unknown_key_is_refused_with_its_line(admin_client, project_name):
    typo = "services:\n  app:\n    image: x\n    restart_polcy: always\n"
    response = post(admin_client, project_name("schema"), typo)

    assert response.status_code == 400
    body = response.json()
    assert body["details"]["line"] == 4
    assert body["details"]["path"] == "services.app.restart_polcy"
    assert "unknown key 'restart_polcy'" in body["message"]


def test_validate_checks_edits_without_saving_them(admin_client, project_name):
    name = project_name("validate")
    assert post(admin_client, name, SIMPLE).status_code == 201

    good = admin_client.post(f"/api/v1/compose/{name}/validate/", {}, format="json")
    assert good.status_code == 200
    assert good.json() == {"valid": True, "services": ["app"], "profiles": []}

    edit = SIMPLE + "    ports: [{target: nope}]\n"
    bad = admin_client.post(
        f"/api/v1/compose/{name}/validate/", {"compose": edit}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["details"]["line"] == 4
    assert str(settings.DATA_DIR) not in bad.json()["message"]
    saved = admin_client.get(f"/api/v1/compose/{name}/").json()
    assert saved["compose"] == SIMPLE


@pytest.mark.parametrize(
    ("name", "better"),
    [("MyApp", "myapp"), ("my.app", "myapp"), ("-x", "x"), ("web app", "webapp")],
)
def test_a_name_compose_would_change_is_refused_with_the_name_it_would_use(
    admin_client, name, better
):
    response = post(admin_client, name, SIMPLE)
    assert response.status_code == 400
    assert f"Compose would call it '{better}'" in response.json()["message"]


def test_files_are_written_to_the_data_directory_as_typed(admin_client, project_name):
    name = project_name("files")
    env = "PASSWORD=pa$$w0rd$\nGREETING=hi  \n"
    compose = SIMPLE + "    environment:\n      P: ${PASSWORD}\n"
    assert post(admin_client, name, compose, env).status_code == 201

    folder = Path(settings.DATA_DIR) / "projects" / name
    assert (folder / "compose.yaml").read_text() == compose
    assert (folder / ".env").read_text() == env

    changed = env + "EXTRA=$1\n"
    response = admin_client.patch(
        f"/api/v1/compose/{name}/", {"env": changed}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["env"] == changed
    assert response.json()["compose"] == compose
    assert (folder / ".env").read_text() == changed


def test_a_project_with_containers_is_not_deleted(
    admin_client, docker_client, test_image, project_name
):
    name = project_name("delete")
    assert post(admin_client, name, SIMPLE).status_code == 201
    docker_client.api.create_container(
        test_image,
        name=f"{name}-app-1",
        labels={
            "dockpilot.test": RUN_ID,
            "com.docker.compose.project": name,
            "com.docker.compose.project.working_dir": str(
                Path(settings.DATA_DIR) / "projects" / name
            ),
            "com.docker.compose.service": "app",
        },
    )

    response = admin_client.delete(f"/api/v1/compose/{name}/")
    assert response.status_code == 409
    assert "bring it down first" in response.json()["message"]


def test_deleting_a_project_removes_its_files_and_is_audited(
    admin_client, project_name
):
    name = project_name("gone")
    assert post(admin_client, name, SIMPLE).status_code == 201

    assert admin_client.delete(f"/api/v1/compose/{name}/").status_code == 204
    assert not (Path(settings.DATA_DIR) / "projects" / name).exists()
    assert admin_client.get(f"/api/v1/compose/{name}/").status_code == 404
    row = AuditLog.objects.filter(action="compose.delete").latest("id")
    assert row.outcome == Outcome.SUCCESS and row.resource_name == name


def test_a_second_deploy_while_one_is_queued_is_refused(
    admin_client, test_image, project_name
):
    # No worker here: the first job stays queued, so the second always meets it.
    name = project_name("busy")
    assert post(admin_client, name, compose_text(test_image)).status_code == 201
    first = admin_client.post(f"/api/v1/compose/{name}/up/", {}, format="json")
    assert first.status_code == 202

    second = admin_client.post(f"/api/v1/compose/{name}/up/", {}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "project_busy"
    assert first.json()["id"] in second.json()["message"]
    row = AuditLog.objects.filter(action="compose.up").latest("id")
    assert row.outcome == Outcome.FAILURE and row.resource_name == name

    also = admin_client.post(f"/api/v1/compose/{name}/down/", {}, format="json")
    assert also.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"services": ["--volumes"]}, "services"),
        ({"services": ["nosuch"]}, "services"),
        ({"profiles": ["-x"]}, "profiles"),
    ],
)
def test_no_value_a_user_typed_becomes_an_option(
    admin_client, project_name, body, field
):
    name = project_name("options")
    assert post(admin_client, name, SIMPLE).status_code == 201

    response = admin_client.post(f"/api/v1/compose/{name}/up/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["details"]["field"] == field
    service = admin_client.post(
        f"/api/v1/compose/{name}/services/-d/restart/", {}, format="json"
    )
    assert service.status_code == 400


def test_the_cli_gets_an_argument_list_with_services_after_a_separator():
    from apps.compose.services.operations import arguments

    argv = arguments("up", {"pull": "never", "services": ["web"], "build": True})
    assert argv == ["up", "--detach", "--pull", "never", "--build", "--", "web"]
    # No pull asked: the file's pull_policy decides.
    assert arguments("up", {}) == ["up", "--detach", "--no-build", "--"]
    assert arguments("down", {"remove_volumes": True, "remove_images": "local"}) == [
        "down",
        "--volumes",
        "--rmi",
        "local",
    ]


def test_two_requests_that_saw_the_project_idle_cannot_both_claim_it(
    admin_client, project_name
):
    from apps.compose.models import ComposeProject
    from apps.compose.services.operations import _claim
    from apps.jobs.models import Job
    from dockpilot.errors import Conflict

    name = project_name("race")
    assert post(admin_client, name, SIMPLE).status_code == 201
    project = ComposeProject.objects.get(name=name)
    seen = project.revision
    first = Job.objects.create(kind="compose_up", target=name)
    second = Job.objects.create(kind="compose_up", target=name)

    _claim(project, first, seen)
    with pytest.raises(Conflict):
        _claim(project, second, seen)
    project.refresh_from_db()
    assert project.last_job_id == first.pk


def test_an_environment_with_projects_is_not_deleted(admin_client, project_name):
    from apps.containers.models import Environment

    other = Environment.objects.create(name=f"dpt-{RUN_ID}-env")
    name = project_name("env")
    response = admin_client.post(
        f"/api/v1/compose/?environment={other.name}",
        {"name": name, "compose": SIMPLE},
        format="json",
    )
    assert response.status_code == 201, response.json()

    deleted = admin_client.delete(f"/api/v1/environments/{other.pk}/")
    assert deleted.status_code == 409
    assert name in deleted.json()["message"]
