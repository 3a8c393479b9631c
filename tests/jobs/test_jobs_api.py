"""The jobs API without a worker: who sees which job, output, cancel, claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditLog, Outcome
from apps.jobs import services
from apps.jobs.models import Job, JobOutput, Status

pytestmark = pytest.mark.django_db


def make_job(user, **fields) -> Job:
    return Job.objects.create(
        **{"kind": "pull", "target": "dpt/x:1", "user": user, **fields}
    )


def test_users_see_their_own_jobs_and_admins_see_all(
    operator_user, operator_client, viewer_user, admin_client
):
    mine = make_job(operator_user)
    make_job(viewer_user)

    own = operator_client.get("/api/v1/jobs/").json()["results"]
    every = admin_client.get("/api/v1/jobs/").json()["results"]

    assert [job["id"] for job in own] == [str(mine.pk)]
    assert len(every) == 2


def test_another_users_job_is_not_found(operator_client, viewer_user):
    theirs = make_job(viewer_user)

    assert operator_client.get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
    assert operator_client.get(f"/api/v1/jobs/{theirs.pk}/output/").status_code == 404
    assert operator_client.post(f"/api/v1/jobs/{theirs.pk}/cancel/").status_code == 404


def test_the_list_filters_by_kind_status_and_user(
    admin_client, operator_user, viewer_user
):
    make_job(operator_user, status=Status.FAILED)
    make_job(viewer_user, kind="build")

    def ids(**query):
        return len(admin_client.get("/api/v1/jobs/", query).json()["results"])

    assert ids(kind="build") == 1
    assert ids(status="failed") == 1
    assert ids(user=operator_user.username) == 1
    assert admin_client.get("/api/v1/jobs/", {"status": "stuck"}).status_code == 400


def test_output_is_read_from_a_chunk_number(operator_user, operator_client):
    job = make_job(operator_user, output_chunks=3)
    for seq in (1, 2, 3):
        JobOutput.objects.create(job=job, seq=seq, text=f"line {seq}")

    body = operator_client.get(f"/api/v1/jobs/{job.pk}/output/", {"after": 1}).json()

    assert [chunk["seq"] for chunk in body["chunks"]] == [2, 3]
    assert body["job"]["output_chunks"] == 3


def test_canceling_a_queued_job_ends_it_at_once_and_is_audited(
    operator_user, operator_client
):
    job = make_job(operator_user)

    response = operator_client.post(f"/api/v1/jobs/{job.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert AuditLog.objects.filter(
        action="job.cancel", outcome=Outcome.SUCCESS
    ).exists()
    # The worker that later receives the task finds nothing to claim.
    assert services.claim(str(job.pk), "w1") is None


def test_canceling_a_finished_job_is_a_conflict(operator_user, operator_client):
    job = make_job(operator_user, status=Status.SUCCEEDED)

    response = operator_client.post(f"/api/v1/jobs/{job.pk}/cancel/")

    assert response.status_code == 409
    assert "already ended" in response.json()["message"]


def test_a_job_is_claimed_by_one_worker_only(operator_user):
    job = make_job(operator_user)

    first = services.claim(str(job.pk), "w1")
    second = services.claim(str(job.pk), "w2")

    assert first is not None and first.worker == "w1"
    assert second is None


def test_a_running_job_without_heartbeat_is_marked_errored(operator_user, settings):
    settings.JOB_LOST_AFTER_SECONDS = 30
    stale = timezone.now() - timedelta(seconds=31)
    lost = make_job(
        operator_user, status=Status.RUNNING, heartbeat_at=stale, worker="w9"
    )
    alive = make_job(operator_user, status=Status.RUNNING, heartbeat_at=timezone.now())

    assert services.reap_lost_jobs() == 1

    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == Status.ERRORED and "w9 stopped answering" in lost.error
    assert lost.finished_at is not None
    assert alive.status == Status.RUNNING


def test_the_beat_schedule_runs_the_reaper(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reap-lost-jobs"]
    assert entry["task"] == "apps.jobs.tasks.reap_lost_jobs"
    assert entry["schedule"] + settings.JOB_LOST_AFTER_SECONDS <= 60


def test_a_viewer_cannot_start_a_pull(viewer_client):
    response = viewer_client.post(
        "/api/v1/images/pull", {"image": "dpt/x"}, format="json"
    )

    assert response.status_code in (403, 404)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("DPT/Upper:1", "uppercase"),
        ("dpt/x:bad tag", "not a valid image reference"),
        ("", "may not be blank"),
    ],
)
def test_a_bad_reference_is_refused_before_any_job(admin_client, image, message):
    response = admin_client.post("/api/v1/images/pull", {"image": image}, format="json")

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Job.objects.exists()


def test_a_reference_without_tag_pulls_latest_not_every_tag(admin_client):
    response = admin_client.post(
        "/api/v1/images/pull", {"image": "127.0.0.1:5999/dpt/x"}, format="json"
    )

    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.target == "127.0.0.1:5999/dpt/x:latest"
    assert job.params["tag"] == "latest"
    assert response["Location"] == f"/api/v1/jobs/{job.pk}/"


def test_an_upload_with_a_dotdot_entry_is_refused(admin_client):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("Dockerfile", "../escape"):
            info = tarfile.TarInfo(name)
            info.size = 4
            archive.addfile(info, io.BytesIO(b"data"))
    buffer.seek(0)
    buffer.name = "context.tar"

    response = admin_client.post(
        "/api/v1/images/build", {"context": buffer}, format="multipart"
    )

    assert response.status_code == 400
    assert "climbs out of the context" in response.json()["message"]
    assert not Job.objects.exists()
    row = AuditLog.objects.filter(action="image.build").latest("id")
    assert row.outcome == Outcome.FAILURE


def test_a_build_needs_a_dockerfile_or_a_context(admin_client):
    response = admin_client.post(
        "/api/v1/images/build", {"tags": ["dpt/x:1"]}, format="json"
    )

    assert response.status_code == 400
    assert "dockerfile" in response.json()["message"]


def test_build_cache_prunes_take_no_labels(admin_client):
    response = admin_client.post(
        "/api/v1/prunes", {"what": "build_cache", "labels": ["a=b"]}, format="json"
    )

    assert response.status_code == 400
    assert "no labels" in response.json()["message"]


def test_build_arguments_and_credentials_are_not_shown_in_a_job(
    operator_user, operator_client
):
    job = make_job(
        operator_user,
        kind="build",
        params={"build_args": {"TOKEN": "hunter2-token"}, "credential": 7},
    )

    body = operator_client.get(f"/api/v1/jobs/{job.pk}/").json()

    assert body["params"] == {"build_args": {"TOKEN": "***"}}


def test_an_upload_keeps_its_labels_and_build_args(admin_client):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("Dockerfile")
        info.size = 11
        archive.addfile(info, io.BytesIO(b"FROM scratch"[:11]))
    buffer.seek(0)
    buffer.name = "context.tar"

    response = admin_client.post(
        "/api/v1/images/build",
        {
            "context": buffer,
            "labels": '{"team": "blue"}',
            "build_args": '{"A": "1"}',
            "tags": "dpt/upload:1",
        },
        format="multipart",
    )

    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.params["labels"] == {"team": "blue"}
    assert set(job.params["build_args"]) == {"A"}


def test_an_upload_with_labels_that_are_not_json_is_refused(admin_client):
    import io

    buffer = io.BytesIO(b"not a tar")
    buffer.name = "context.tar"

    response = admin_client.post(
        "/api/v1/images/build",
        {"context": buffer, "labels": "team=blue"},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("labels")


@pytest.mark.engine
def test_a_build_may_not_take_a_tag_that_names_another_image(
    operator_client, test_image
):
    # The test image's tag names an image others run: an operator's build
    # may not take it over.
    response = operator_client.post(
        "/api/v1/images/build",
        {"dockerfile": f"FROM {test_image}\nRUN true\n", "tags": [test_image]},
        format="json",
    )

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "tag_taken"
    assert not Job.objects.filter(kind="build", target=test_image).exists()
    row = AuditLog.objects.filter(action="image.build").latest("id")
    assert row.outcome == Outcome.FAILURE and row.resource_name == test_image


@pytest.mark.engine
def test_a_build_may_not_set_composes_labels(operator_client, test_image):
    response = operator_client.post(
        "/api/v1/images/build",
        {
            "dockerfile": f"FROM {test_image}\n",
            "tags": ["dpt-new/labelled:1"],
            "labels": {"com.docker.compose.project": "someone-elses"},
        },
        format="json",
    )

    assert response.status_code == 403, response.json()
    assert response.json()["details"]["allow"] == "compose_labels"
    assert AuditLog.objects.filter(action="image.build").latest("id").outcome == (
        Outcome.FAILURE
    )
