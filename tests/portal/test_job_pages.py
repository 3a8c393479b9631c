"""Pull, build, jobs, stats and terminal pages through the test client: the
same access rules as their REST routes, and changes audited."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.jobs.models import Job, Status

pytestmark = pytest.mark.django_db


def queued_job(user, target: str = "team/app:1") -> Job:
    return Job.objects.create(kind="pull", target=target, user=user)


def test_a_viewer_may_not_pull_or_build_and_sees_no_such_button(viewer_page):
    assert viewer_page.get("/images/pull/").status_code == 403
    assert viewer_page.get("/images/build/").status_code == 403
    assert viewer_page.post("/images/pull/", {"image": "x:1"}).status_code == 403
    assert b'href="/images/pull/"' not in viewer_page.get("/images/").content


def test_a_bad_reference_is_shown_next_to_the_image_field(operator_page):
    response = operator_page.post("/images/pull/", {"image": "UPPER/Case:!"})

    assert response.status_code == 400
    assert b"field has-error" in response.content
    assert not Job.objects.exists()


def test_a_user_sees_only_their_own_jobs(operator_page, operator_user, viewer_user):
    mine = queued_job(operator_user, "mine/app:1")
    theirs = queued_job(viewer_user, "theirs/app:1")

    listing = operator_page.get("/jobs/").content

    assert b"mine/app:1" in listing and b"theirs/app:1" not in listing
    assert operator_page.get(f"/jobs/{mine.pk}/").status_code == 200
    assert operator_page.get(f"/jobs/{theirs.pk}/").status_code == 404
    assert operator_page.post(f"/jobs/{theirs.pk}/cancel/").status_code == 404


def test_the_jobs_list_filters_by_status(admin_page, operator_user):
    queued_job(operator_user, "still/queued:1")
    Job.objects.create(
        kind="pull", target="done/app:1", user=operator_user, status=Status.SUCCEEDED
    )

    listing = admin_page.get("/jobs/?status=succeeded").content

    assert b"done/app:1" in listing and b"still/queued:1" not in listing


def test_canceling_a_queued_job_from_its_page_is_audited(operator_page, operator_user):
    job = queued_job(operator_user)

    page = operator_page.get(f"/jobs/{job.pk}/").content
    response = operator_page.post(f"/jobs/{job.pk}/cancel/")

    assert b"Cancel the pull job of team/app:1?" in page
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CANCELED
    row = AuditLog.objects.filter(action="job.cancel").latest("id")
    assert row.actor_username == operator_user.username
    assert row.resource_id == str(job.pk)


@pytest.mark.engine
def test_a_granted_viewer_sees_stats_but_no_terminal(
    viewer_page, viewer_user, make_container, unique_name
):
    from guardian.shortcuts import assign_perm

    from apps.accounts import access
    from apps.containers.environments import default_environment

    engine_id = make_container(unique_name)
    row = access.record_owner(None, default_environment(), "container", engine_id)
    assign_perm("containers.view_resourceownership", viewer_user, row)

    stats = viewer_page.get(f"/containers/{unique_name}/stats/")
    terminal = viewer_page.get(f"/containers/{unique_name}/terminal/")

    assert stats.status_code == 200
    assert f"/ws/containers/{engine_id}/stats/".encode() in stats.content
    assert b"/terminal/" not in stats.content
    assert terminal.status_code == 403


@pytest.mark.engine
def test_the_terminal_page_allows_only_its_own_style_nonce(
    admin_page, make_container, unique_name
):
    make_container(unique_name)

    response = admin_page.get(f"/containers/{unique_name}/terminal/")
    other = admin_page.get(f"/containers/{unique_name}/stats/")

    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'content="{nonce}"'.encode() in response.content
    assert "script-src 'self';" in policy
    assert "nonce" not in other["Content-Security-Policy"]
