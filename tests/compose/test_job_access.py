"""Who may follow a Compose job: everyone who may look at its project."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.compose.models import ComposeProject
from apps.containers.environments import default_environment
from apps.jobs.models import Job
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def deploy(operator_user) -> Job:
    project = ComposeProject.objects.create(
        name="shop",
        environment=default_environment(),
        compose_yaml="services: {}\n",
        owner=operator_user,
    )
    return Job.objects.create(
        kind="compose_up",
        target=project.name,
        user=operator_user,
        environment=project.environment,
        params={"project": project.pk, "operation": "up"},
    )


def test_a_viewer_of_the_project_follows_its_jobs(viewer_client, viewer_user, deploy):
    project = ComposeProject.objects.get(name="shop")
    assert viewer_client.get(f"/api/v1/jobs/{deploy.pk}/").status_code == 404

    assign_perm("compose.view_composeproject", viewer_user, project)

    assert viewer_client.get(f"/api/v1/jobs/{deploy.pk}/").status_code == 200
    listed = viewer_client.get("/api/v1/jobs/").json()["results"]
    assert [job["id"] for job in listed] == [str(deploy.pk)]
    output = viewer_client.get(f"/api/v1/jobs/{deploy.pk}/output/")
    assert output.status_code == 200
    # Seen, not to be stopped: a viewer's role only reads.
    assert viewer_client.post(f"/api/v1/jobs/{deploy.pk}/cancel/").status_code == 403
    deploy.refresh_from_db()
    assert deploy.status == "queued"


def test_the_jobs_of_other_projects_and_kinds_stay_hidden(
    viewer_user, operator_user, deploy
):
    project = ComposeProject.objects.get(name="shop")
    assign_perm("compose.view_composeproject", viewer_user, project)
    # A pull that happens to carry the project's number is not the project's.
    pull = Job.objects.create(
        kind="pull", target="x:1", user=operator_user, params={"project": project.pk}
    )
    other = ComposeProject.objects.create(
        name="other", environment=project.environment, compose_yaml="services: {}\n"
    )
    theirs = Job.objects.create(
        kind="compose_up", target="other", params={"project": other.pk}
    )

    client = client_for(viewer_user)

    assert client.get(f"/api/v1/jobs/{pull.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
