"""A real project deployed by a real worker through the real Compose CLI."""

from __future__ import annotations

import time

import pytest

from apps.audit.models import AuditLog, Outcome
from apps.jobs.models import JobOutput
from tests.conftest import RUN_ID
from tests.jobs.conftest import wait_for, websocket_messages

from .conftest import compose_text, wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

ENV = "GREETING=bonjour\nSUFFIX=x$$y\n"


def create(client, name: str, compose: str, env: str = ENV) -> dict:
    response = client.post(
        "/api/v1/compose/",
        {"name": name, "compose": compose, "env": env},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def operate(client, name: str, operation: str, body: dict | None = None) -> dict:
    response = client.post(
        f"/api/v1/compose/{name}/{operation}/", body or {}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_finished(response.json()["id"], seconds=120)
    assert job.status == "succeeded", (job.error, output_of(job))
    return {"id": str(job.pk), "result": job.result, "output": output_of(job)}


def output_of(job) -> str:
    return "\n".join(JobOutput.objects.filter(job=job).values_list("text", flat=True))


def ps(client, name: str) -> dict:
    response = client.get(f"/api/v1/compose/{name}/ps/")
    assert response.status_code == 200, response.json()
    return response.json()


def settled(client, name: str, service: str, seconds: float = 30) -> dict:
    """``ps`` once ``service`` stopped running (``up --detach`` returns when a
    one-shot started, not when it ended)."""
    deadline = time.monotonic() + seconds
    while True:
        seen = ps(client, name)
        state = services(seen)[service]["containers"][0]["state"]
        if state != "running" or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def services(seen: dict) -> dict[str, dict]:
    return {service["service"]: service for service in seen["services"]}


def test_a_two_service_project_deploys_with_status_logs_restart_and_down(
    compose_worker,
    operator_client,
    operator_user,
    docker_client,
    test_image,
    project_name,
):
    name = project_name("deploy")
    compose = compose_text(test_image)
    project = create(operator_client, name, compose)
    assert project["status"] == "new"

    deployed = operate(operator_client, name, "up", {"pull": "never"})
    print(f"\n--- streamed output of compose up ---\n{deployed['output']}\n---")
    streamed = websocket_messages(operator_user, deployed["id"])
    shown = "\n".join(m["text"] for m in streamed if m["type"] == "output")
    assert f"Container {name}-worker-1  Started" in shown
    assert streamed[-1]["type"] == "end"
    assert "docker compose up --detach --pull never" in deployed["output"]
    assert f"Container {name}-web-1  Started" in deployed["output"]
    assert f"project {name}: running" in deployed["output"]

    # The one-shot migration exited 0: finished, and the project runs.
    seen = settled(operator_client, name, "migrate")
    by_service = services(seen)
    assert seen["status"] == "running"
    assert sorted(seen["running"]) == ["web", "worker"]
    assert seen["finished"] == ["migrate"] and seen["failed"] == []
    assert by_service["migrate"]["containers"][0]["exit_code"] == 0
    assert "debug" not in by_service  # its profile was not asked for
    web = by_service["web"]["containers"][0]
    assert web["state"] == "running" and web["health"] is None

    logs = operator_client.get(f"/api/v1/compose/{name}/logs/?timestamps=true")
    assert logs.status_code == 200
    lines = logs.json()["lines"]
    texts = {(line["service"], line["text"]) for line in lines}
    assert ("web", "web says bonjour") in texts
    assert ("worker", "worker says hello") in texts
    assert ("migrate", "migrations applied") in texts
    stamps = [line["timestamp"] for line in lines]
    assert stamps == sorted(stamps, key=lambda s: s.rstrip("Z").ljust(30, "0"))

    # Interpolation as Compose does it: $$ is a literal dollar, in the file
    # and in .env values used through ${...}.
    env = docker_client.api.inspect_container(web["id"])["Config"]["Env"]
    assert "DB_PASSWORD=s3cr$t-x$y" in env
    assert operator_client.get(f"/api/v1/compose/{name}/").json()["compose"] == compose

    worker_before = by_service["worker"]["containers"][0]["id"]
    started = docker_client.api.inspect_container(worker_before)["State"]["StartedAt"]
    response = operator_client.post(
        f"/api/v1/compose/{name}/services/worker/restart/",
        {"timeout": 1},
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert wait_finished(response.json()["id"], 120).status == "succeeded"
    after = docker_client.api.inspect_container(worker_before)["State"]
    assert after["Running"] and after["StartedAt"] != started

    operate(operator_client, name, "down", {"remove_volumes": True})
    assert ps(operator_client, name)["status"] == "down"
    assert not docker_client.api.containers(
        all=True, filters={"label": f"com.docker.compose.project={name}"}
    )

    actions = set(
        AuditLog.objects.filter(
            resource_name=name, outcome=Outcome.SUCCESS
        ).values_list("action", flat=True)
    )
    assert {
        "compose.create",
        "job.create",
        "compose.up",
        "compose.restart",
        "compose.down",
    } <= actions


def test_a_profile_is_started_only_when_asked(
    compose_worker, admin_client, test_image, project_name
):
    name = project_name("profile")
    create(admin_client, name, compose_text(test_image))

    operate(admin_client, name, "up", {"pull": "never", "services": ["web"]})
    assert "debug" not in services(ps(admin_client, name))

    operate(admin_client, name, "up", {"pull": "never", "profiles": ["debug"]})
    seen = services(ps(admin_client, name))
    assert seen["debug"]["state"] == "running"
    operate(admin_client, name, "down", {"profiles": ["debug"]})


def test_a_stopped_service_is_stopped_not_failed(
    compose_worker, admin_client, test_image, project_name
):
    name = project_name("stopped")
    create(admin_client, name, compose_text(test_image))
    # No pull option: the file's "pull_policy: never" holds, nothing is pulled.
    operate(admin_client, name, "up")

    response = admin_client.post(
        f"/api/v1/compose/{name}/services/web/stop/", {"timeout": 1}, format="json"
    )
    assert wait_finished(response.json()["id"], 120).status == "succeeded"
    seen = ps(admin_client, name)
    assert seen["stopped"] == ["web"] and seen["failed"] == []
    assert seen["status"] == "partial"

    operate(admin_client, name, "stop", {"timeout": 1})
    assert ps(admin_client, name)["status"] == "stopped"
    operate(admin_client, name, "start")
    assert ps(admin_client, name)["status"] == "running"
    operate(admin_client, name, "down")


def test_a_failing_service_makes_the_project_failed(
    compose_worker, admin_client, test_image, project_name
):
    name = project_name("failing")
    broken = (
        "services:\n  broken:\n"
        f"    image: {test_image}\n    pull_policy: never\n"
        '    command: ["sh", "-c", "echo cannot start; exit 3"]\n'
        f"    labels:\n      dockpilot.test: {RUN_ID}\n"
    )
    create(admin_client, name, broken, env="")
    operate(admin_client, name, "up", {"pull": "never"})

    seen = settled(admin_client, name, "broken")
    assert seen["status"] == "failed" and seen["failed"] == ["broken"]
    assert services(seen)["broken"]["containers"][0]["exit_code"] == 3
    operate(admin_client, name, "down")


def test_canceling_a_compose_job_stops_the_cli(
    compose_worker, admin_client, test_image, project_name
):
    name = project_name("cancel")
    # sleep as PID 1 ignores SIGTERM: a stop waits its whole timeout.
    stubborn = (
        "services:\n  stubborn:\n"
        f"    image: {test_image}\n    pull_policy: never\n"
        '    command: ["sleep", "300"]\n'
        f"    labels:\n      dockpilot.test: {RUN_ID}\n"
    )
    create(admin_client, name, stubborn, env="")
    operate(admin_client, name, "up", {"pull": "never"})

    response = admin_client.post(
        f"/api/v1/compose/{name}/stop/", {"timeout": 120}, format="json"
    )
    job_id = response.json()["id"]
    wait_for(job_id, lambda job: "Stopping" in output_of(job), seconds=60)
    started = time.monotonic()
    canceled = admin_client.post(f"/api/v1/jobs/{job_id}/cancel/")
    assert canceled.status_code == 200, canceled.json()

    job = wait_finished(job_id, seconds=60)
    assert job.status == "canceled"
    assert time.monotonic() - started < 30
    # The project is free again.
    operate(admin_client, name, "down", {})
