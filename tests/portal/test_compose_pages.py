"""Compose pages through the test client: the access rules of the REST
routes, no button the user may not use, and every change audited.

The tests are not transactional: a queued operation's task is sent only
after a commit, so no worker ever runs it here (tests/portal/browser and
tests/compose deploy for real).
"""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.accounts.models import Role
from apps.audit.models import AuditLog
from apps.compose.models import ComposeProject
from apps.jobs.models import Job
from tests.compose.conftest import project_name
from tests.conftest import grant_environment, make_user

from .conftest import session_client

__all__ = ["project_name"]  # the fixture, brought down after each test

pytestmark = [pytest.mark.django_db, pytest.mark.engine]

FILE = "services:\n  app:\n    image: dockpilot-test/none:1\n    pull_policy: never\n"
# A tab where the YAML needs spaces: an error on line 3.
BAD = "services:\n  app:\n\timage: x\n"


@pytest.fixture
def project(operator_page, project_name) -> ComposeProject:
    name = project_name("page")
    response = operator_page.post(
        "/compose/new/", {"name": name, "compose": FILE, "env": "TOKEN=pa$$word\r\n"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ComposeProject.objects.get(name=name)


def test_creating_a_project_from_the_form_is_audited(project, operator_user):
    row = AuditLog.objects.filter(action="compose.create").latest("id")

    assert row.actor_username == operator_user.username
    assert row.resource_id == project.name and row.outcome == "success"
    # The textarea's CRLF line ends are stored as the LF the CLI expects.
    assert project.env_text == "TOKEN=pa$$word\n"


def test_the_owner_sees_the_actions_and_the_real_env(operator_page, project):
    content = operator_page.get(f"/compose/{project.name}/").content.decode()

    for operation in ("up", "stop", "start", "restart", "pull", "down"):
        assert f'data-project-action="{operation}"' in content
    assert "TOKEN=pa$$word" in content
    assert "Its volumes are removed too, with their data." in content
    assert 'name="intent" value="save"' in content


def test_a_viewer_granted_the_project_sees_no_buttons_and_masked_env(
    viewer_page, viewer_user, project
):
    assign_perm("compose.view_composeproject", viewer_user, project)

    content = viewer_page.get(f"/compose/{project.name}/").content.decode()
    listing = viewer_page.get("/compose/").content.decode()

    assert "TOKEN=***" in content and "pa$$word" not in content
    assert "data-project-action" not in content
    assert "data-service-action" not in content
    assert 'name="intent"' not in content and "readonly" in content
    assert project.name in listing and "/compose/new/" not in listing
    assert viewer_page.post(f"/compose/{project.name}/up/").status_code == 403
    assert viewer_page.get("/compose/new/").status_code == 403


def test_another_teams_project_is_not_found(project):
    colleague = make_user("olga-operator", Role.OPERATOR)
    grant_environment(colleague, ("view", "operate"))
    other = session_client(colleague)

    assert other.get(f"/compose/{project.name}/").status_code == 404
    assert other.get(f"/compose/{project.name}/logs/").status_code == 404
    assert other.post(f"/compose/{project.name}/up/").status_code == 404
    assert other.post(f"/compose/{project.name}/delete/").status_code == 404
    assert project.name not in other.get("/compose/").content.decode()
    assert not Job.objects.exists()


def test_a_bad_file_is_shown_at_its_line_and_not_saved(operator_page, project):
    response = operator_page.post(
        f"/compose/{project.name}/", {"compose": BAD, "env": "", "intent": "save"}
    )

    content = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-line="3"' in content and "line 3:" in content
    project.refresh_from_db()
    assert project.compose_yaml == FILE
    row = AuditLog.objects.filter(action="compose.update").latest("id")
    assert row.outcome == "failure"


def test_saving_the_files_from_the_page_is_audited(operator_page, project):
    changed = FILE.replace("app:", "web:")

    response = operator_page.post(
        f"/compose/{project.name}/", {"compose": changed, "env": "", "intent": "save"}
    )

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.compose_yaml == changed and project.env_text == ""
    row = AuditLog.objects.filter(action="compose.update").latest("id")
    assert row.outcome == "success" and row.resource_id == project.name


def test_deploying_from_the_page_queues_a_job_shown_on_the_page(
    operator_page, operator_user, project
):
    response = operator_page.post(f"/compose/{project.name}/up/")

    assert response.status_code == 302
    assert response["Location"] == f"/compose/{project.name}/"
    job = Job.objects.get(kind="compose_up", target=project.name)
    assert job.user == operator_user
    row = AuditLog.objects.filter(action="job.create").latest("id")
    assert row.resource_id == str(job.pk)
    content = operator_page.get(f"/compose/{project.name}/").content.decode()
    assert f'data-job-ws="/ws/jobs/{job.pk}/"' in content
    # One operation at a time: the buttons wait for this one to end.
    assert 'data-project-action="up" disabled' in content


def test_a_service_action_names_its_service_and_is_audited(operator_page, project):
    response = operator_page.post(f"/compose/{project.name}/services/app/restart/")

    assert response.status_code == 302
    job = Job.objects.get(kind="compose_restart")
    assert job.params["services"] == ["app"]
    assert AuditLog.objects.filter(action="job.create", resource_id=str(job.pk))


def test_an_unknown_service_is_a_message_not_a_job(operator_page, project):
    response = operator_page.post(
        f"/compose/{project.name}/services/nope/stop/",
        HTTP_REFERER=f"http://testserver/compose/{project.name}/",
    )

    assert response.status_code == 302
    assert not Job.objects.exists()
    page = operator_page.get(response["Location"]).content.decode()
    assert "nope not in the compose file" in page
    row = AuditLog.objects.filter(action="compose.stop").latest("id")
    assert row.outcome == "failure"


def test_removing_every_image_needs_change_on_the_environment(project):
    deployer = make_user("otto-operator", Role.OPERATOR)
    grant_environment(deployer, ("view", "operate"))
    assign_perm("compose.operate_composeproject", deployer, project)
    assign_perm("compose.view_composeproject", deployer, project)
    client = session_client(deployer)

    content = client.get(f"/compose/{project.name}/").content.decode()
    client.post(f"/compose/{project.name}/down/", {"remove_images": "all"})

    assert 'value="local"' in content and 'value="all"' not in content
    assert not Job.objects.exists()
