"""Pulls, builds and prunes run by a real Celery worker against the real engine.

Every test here runs twice, once per broker mode (see ``worker`` in
conftest). Images pulled come from registries on 127.0.0.1 started by the
suite; images built carry the suite's labels and are removed at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import tarfile
import time
import uuid

import pytest

from apps.audit.models import AuditLog, Outcome
from apps.jobs.models import Job, Status
from tests.conftest import LABELS, RUN_ID, TEST_LABEL

from .conftest import (
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    wait_finished,
    wait_for,
    websocket_messages,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]


@pytest.fixture(autouse=True)
def _not_pulled_yet(request, docker_client):
    """Each pull really downloads: the suite's pushed images are dropped first."""

    def drop() -> None:
        if "pushed" not in request.fixturenames:
            return
        pushed = request.getfixturevalue("pushed")
        for reference in (pushed.small, pushed.private):
            with contextlib.suppress(Exception):
                docker_client.api.remove_image(reference, force=True)

    drop()
    yield
    drop()


def pull(client, image: str, **extra):
    response = client.post(
        "/api/v1/images/pull", {"image": image, **extra}, format="json"
    )
    assert response.status_code == 202, response.json()
    return response.json()


def credential(client, registry, password: str = REGISTRY_PASSWORD) -> int:
    response = client.post(
        "/api/v1/registries/",
        {
            "name": f"dpt-{uuid.uuid4().hex[:6]}",
            "registry": registry.host,
            "username": REGISTRY_USER,
            "secret": password,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_pull_from_an_open_registry_reports_layers_over_the_websocket(
    worker, admin_client, admin_user, pushed, docker_client
):
    job = pull(admin_client, pushed.small)
    assert job["status"] == "queued"

    messages = websocket_messages(admin_user, job["id"])

    kinds = [m["type"] for m in messages]
    assert kinds[-1] == "end" and messages[-1]["status"] == "succeeded", messages
    text = "\n".join(m["text"] for m in messages if m["type"] == "output")
    assert "Pull complete" in text
    layers = [
        e
        for m in messages
        if m["type"] == "output"
        for e in m["events"]
        if "layer" in e
    ]
    assert layers and {"status", "current", "total"} <= set(layers[0])
    seqs = [m["seq"] for m in messages if m["type"] == "output"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert messages[-1]["progress"] == 100
    assert (
        docker_client.api.inspect_image(pushed.small)["Id"]
        == messages[-1]["result"]["id"]
    )
    row = AuditLog.objects.filter(action="image.pull").latest("id")
    assert row.outcome == Outcome.SUCCESS and row.actor_username == admin_user.username


def test_the_websocket_resumes_after_the_last_chunk_seen(
    worker, admin_client, admin_user, pushed
):
    job = pull(admin_client, pushed.small)
    wait_finished(job["id"])
    total = Job.objects.get(pk=job["id"]).output_chunks
    assert total >= 2

    messages = websocket_messages(admin_user, job["id"], after=total - 1)

    outputs = [m for m in messages if m["type"] == "output"]
    assert [m["seq"] for m in outputs] == [total]
    assert messages[-1]["type"] == "end"


def test_pull_with_the_right_credential_succeeds(
    worker, admin_client, auth_registry, pushed
):
    job = pull(
        admin_client, pushed.private, credential=credential(admin_client, auth_registry)
    )

    finished = wait_finished(job["id"])

    assert finished.status == Status.SUCCEEDED, finished.error
    assert finished.result["id"].startswith("sha256:")


def test_pull_with_a_wrong_password_fails_with_the_registrys_reason(
    worker, admin_client, auth_registry, pushed
):
    wrong = credential(admin_client, auth_registry, password="not-the-password")
    job = pull(admin_client, pushed.private, credential=wrong)

    finished = wait_finished(job["id"])

    assert finished.status == Status.FAILED
    assert (
        "unauthorized" in finished.error.lower()
        or "authentication" in finished.error.lower()
    )


def test_pull_without_a_credential_from_a_private_registry_fails(
    worker, admin_client, pushed
):
    job = pull(admin_client, pushed.private)

    finished = wait_finished(job["id"])

    assert finished.status == Status.FAILED
    assert "auth" in finished.error.lower(), finished.error


def test_pull_of_a_missing_tag_fails_with_manifest_unknown(
    worker, admin_client, pushed
):
    missing = pushed.small.rsplit(":", 1)[0] + ":no-such-tag"
    job = pull(admin_client, missing)

    finished = wait_finished(job["id"])

    assert finished.status == Status.FAILED
    assert "not found" in finished.error or "manifest unknown" in finished.error, (
        finished.error
    )
    row = AuditLog.objects.filter(action="image.pull").latest("id")
    assert row.outcome == Outcome.FAILURE and "no-such-tag" in row.resource_name


def test_cancel_in_the_middle_of_a_pull_stops_the_engine(
    worker, admin_client, slow_image, docker_client
):
    reference, proxy = slow_image
    job = pull(admin_client, reference)
    wait_for(job["id"], lambda j: j.progress and j.progress > 0, 60)

    started = time.monotonic()
    response = admin_client.post(f"/api/v1/jobs/{job['id']}/cancel/")
    assert response.status_code == 200, response.json()
    finished = wait_finished(job["id"], 30)

    assert finished.status == Status.CANCELED
    assert time.monotonic() - started < 10
    # The engine dropped its download: the proxy's connections close and
    # the image never appears.
    deadline = time.monotonic() + 15
    while proxy.open_connections and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proxy.open_connections == 0
    assert not docker_client.api.images(name=reference.rsplit(":", 1)[0])
    assert AuditLog.objects.filter(
        action="job.cancel", outcome=Outcome.SUCCESS
    ).exists()


def test_a_job_whose_worker_is_killed_ends_errored(worker, admin_client, slow_image):
    reference, _ = slow_image
    job = pull(admin_client, reference)
    wait_for(job["id"], lambda j: j.status == Status.RUNNING and j.output_chunks > 0)

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    worker.restart(beat=True)  # a new worker and beat, as after a crash
    finished = wait_finished(job["id"], 60)

    assert finished.status == Status.ERRORED
    assert "stopped answering" in finished.error


def build(client, **options):
    response = client.post("/api/v1/images/build", options, format="json")
    assert response.status_code == 202, response.json()
    return response.json()


def test_a_passing_build_streams_its_steps_and_tags_the_image(
    worker, admin_client, test_image, docker_client, unique_name
):
    tag = f"{unique_name}/built:1"
    job = build(
        admin_client,
        dockerfile=(
            f"FROM {test_image}\nARG WORD\n"
            'RUN echo "$WORD" > /word\nCMD ["cat", "/word"]\n'
        ),
        tags=[tag],
        build_args={"WORD": "hello"},
        labels=LABELS,
    )

    finished = wait_finished(job["id"])

    assert finished.status == Status.SUCCEEDED, finished.error
    text = "\n".join(finished.output.values_list("text", flat=True))
    assert "Step 3/5 : RUN" in text
    image = docker_client.api.inspect_image(tag)
    assert image["Id"] == finished.result["id"]
    assert image["Config"]["Labels"][TEST_LABEL] == RUN_ID


def test_a_failing_step_fails_the_build_with_that_steps_error(
    worker, admin_client, test_image, unique_name
):
    job = build(
        admin_client,
        dockerfile=f"FROM {test_image}\nRUN echo step-two\nRUN exit 3\n",
        tags=[f"{unique_name}/broken:1"],
        labels=LABELS,
    )

    finished = wait_finished(job["id"])

    assert finished.status == Status.FAILED
    assert "Step 3/4 : RUN exit 3" in finished.error
    assert "returned a non-zero code: 3" in finished.error
    row = AuditLog.objects.filter(action="image.build").latest("id")
    assert row.outcome == Outcome.FAILURE


def _tar_gz(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    buffer.name = "context.tar.gz"
    return buffer


def test_an_uploaded_context_builds_with_dockerignore_applied(
    worker, admin_client, test_image, docker_client, unique_name
):
    context = _tar_gz(
        {
            "Dockerfile": (
                f"FROM {test_image}\nCOPY . /ctx/\n"
                "RUN test -f /ctx/app/hello && test ! -e /ctx/secret.txt\n"
            ).encode(),
            "app/hello": b"hi\n",
            "secret.txt": b"do not send\n",
            ".dockerignore": b"secret.txt\n",
        }
    )
    tag = f"{unique_name}/uploaded:1"
    response = admin_client.post(
        "/api/v1/images/build",
        {
            "context": context,
            "tags": [tag],
            "labels": json.dumps(LABELS),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()

    finished = wait_finished(response.json()["id"])

    assert finished.status == Status.SUCCEEDED, finished.error
    assert docker_client.api.inspect_image(tag)["Id"] == finished.result["id"]


def test_a_container_prune_job_removes_only_matching_stopped_containers(
    worker, admin_client, test_image, unique_name, docker_client
):
    case = uuid.uuid4().hex[:10]
    labels = {**LABELS, "dpt.case": case}
    stopped = docker_client.api.create_container(
        test_image, ["true"], name=unique_name, labels=labels
    )["Id"]
    running = docker_client.api.create_container(
        test_image, ["sleep", "300"], name=unique_name + "-up", labels=labels
    )["Id"]
    docker_client.api.start(running)

    response = admin_client.post(
        "/api/v1/prunes",
        {"what": "containers", "labels": [f"dpt.case={case}"]},
        format="json",
    )
    assert response.status_code == 202, response.json()
    finished = wait_finished(response.json()["id"])

    assert finished.status == Status.SUCCEEDED, finished.error
    assert finished.result["removed"] == [stopped]
    assert docker_client.api.inspect_container(running)["State"]["Running"]
    row = AuditLog.objects.filter(action="container.prune").latest("id")
    assert row.outcome == Outcome.SUCCESS


def test_a_build_cache_prune_job_reports_what_it_reclaimed(worker, admin_client):
    # "until" a century ago: nothing on this engine is that old, so the
    # prune is real but touches no cache that other builds made.
    response = admin_client.post(
        "/api/v1/prunes", {"what": "build_cache", "until": "876000h"}, format="json"
    )
    assert response.status_code == 202, response.json()

    finished = wait_finished(response.json()["id"])

    assert finished.status == Status.SUCCEEDED, finished.error
    assert finished.result["count"] == 0
    assert "space_reclaimed" in finished.result
