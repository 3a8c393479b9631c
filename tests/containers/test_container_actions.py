"""Container actions against the real engine, each with its audit row."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from tests.conftest import RUN_ID

pytestmark = pytest.mark.django_db

URL = "/api/v1/containers/"
UNKNOWN = f"dpt-{RUN_ID}-no-such-container"

# Busybox sh runs its trap between two short sleeps, so a signal is seen at
# once; PID 1 without a handler would ignore SIGTERM and SIGUSR1.
TRAPPING = [
    "sh",
    "-c",
    "trap 'echo got-usr1; exit 7' USR1; while true; do sleep 0.1; done",
]


def act(client, ident: str, action: str, body: dict | None = None):
    return client.post(f"{URL}{ident}/{action}/", body or {}, format="json")


def state_of(docker_client, ident: str) -> dict:
    return docker_client.api.inspect_container(ident)["State"]


def only_row(action: str) -> AuditLog:
    return AuditLog.objects.get(action=action)


@pytest.fixture
def running(make_container, unique_name):
    return make_container(unique_name)


@pytest.fixture
def stopped(make_container, unique_name):
    return make_container(unique_name, start=False)


def test_operator_starts_a_created_container(
    operator_client, docker_client, operator_user, stopped, unique_name
):
    response = act(operator_client, unique_name, "start")

    assert response.status_code == 200, response.json()
    assert response.json() == {"id": stopped, "name": unique_name}
    assert state_of(docker_client, stopped)["Running"] is True
    row = only_row("container.start")
    assert (row.outcome, row.actor, row.resource_id, row.resource_name) == (
        "success",
        operator_user,
        stopped,
        unique_name,
    )


def test_start_of_a_running_container_is_409(operator_client, running, unique_name):
    response = act(operator_client, running, "start")

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "not_modified"
    assert "already running" in error["message"]
    assert only_row("container.start").outcome == "failure"


def test_stop_with_a_timeout(operator_client, docker_client, running):
    response = act(operator_client, running, "stop", {"timeout": 0})

    assert response.status_code == 200, response.json()
    state = state_of(docker_client, running)
    assert state["Running"] is False
    # sleep ignores SIGTERM as PID 1: a zero timeout goes straight to SIGKILL.
    assert state["ExitCode"] == 137
    row = only_row("container.stop")
    assert (row.outcome, row.details["t"]) == ("success", 0)


def test_stop_of_a_stopped_container_is_409(operator_client, stopped):
    response = act(operator_client, stopped, "stop", {"timeout": 0})

    assert response.status_code == 409
    assert "already stopped" in response.json()["message"]
    assert only_row("container.stop").outcome == "failure"


@pytest.mark.parametrize("timeout", [-1, 601, "soon", None])
def test_stop_refuses_a_bad_timeout(operator_client, docker_client, running, timeout):
    response = act(operator_client, running, "stop", {"timeout": timeout})

    assert response.status_code == 400
    assert response.json()["message"].startswith("timeout: ")
    assert state_of(docker_client, running)["Running"] is True
    assert only_row("container.stop").outcome == "failure"


def test_stop_refuses_an_unknown_field(operator_client, running):
    response = act(operator_client, running, "stop", {"timeout": 0, "force": True})

    assert response.status_code == 400
    assert response.json()["message"].startswith("force: Unknown field")


def test_restart_starts_the_container_again(operator_client, docker_client, running):
    before = state_of(docker_client, running)["StartedAt"]

    response = act(operator_client, running, "restart", {"timeout": 0})

    assert response.status_code == 200, response.json()
    after = state_of(docker_client, running)
    assert after["Running"] is True
    assert after["StartedAt"] != before
    assert only_row("container.restart").outcome == "success"


def test_restart_starts_a_stopped_container(operator_client, docker_client, stopped):
    response = act(operator_client, stopped, "restart", {"timeout": 0})

    assert response.status_code == 200, response.json()
    assert state_of(docker_client, stopped)["Running"] is True


def test_pause_and_unpause(operator_client, docker_client, running):
    paused = act(operator_client, running, "pause")

    assert paused.status_code == 200, paused.json()
    assert state_of(docker_client, running)["Status"] == "paused"
    assert only_row("container.pause").outcome == "success"

    unpaused = act(operator_client, running, "unpause")

    assert unpaused.status_code == 200, unpaused.json()
    assert state_of(docker_client, running)["Status"] == "running"
    assert only_row("container.unpause").outcome == "success"


def test_pause_of_a_paused_container_is_409(operator_client, docker_client, running):
    docker_client.api.pause(running)

    response = act(operator_client, running, "pause")

    assert response.status_code == 409
    assert "already paused" in response.json()["message"]


def test_unpause_of_a_running_container_is_409(operator_client, running):
    # The engine answers a 500 here; it is a conflict with state, not a crash.
    response = act(operator_client, running, "unpause")

    assert response.status_code == 409
    assert "is not paused" in response.json()["message"]
    assert only_row("container.unpause").outcome == "failure"


def test_start_of_a_paused_container_is_409(operator_client, docker_client, running):
    docker_client.api.pause(running)

    response = act(operator_client, running, "start")

    assert response.status_code == 409
    assert "unpause" in response.json()["message"]


def test_pause_of_a_stopped_container_is_409(operator_client, stopped):
    response = act(operator_client, stopped, "pause")

    assert response.status_code == 409
    assert "not running" in response.json()["message"]


def test_kill_sends_sigkill_by_default(operator_client, docker_client, running):
    response = act(operator_client, running, "kill")

    assert response.status_code == 200, response.json()
    assert docker_client.api.wait(running, timeout=10)["StatusCode"] == 137
    row = only_row("container.kill")
    assert (row.outcome, row.details["signal"]) == ("success", "SIGKILL")


@pytest.mark.parametrize("signal", ["SIGUSR1", "USR1", "10"])
def test_kill_sends_the_signal_asked_for(
    operator_client, docker_client, make_container, unique_name, signal
):
    ident = make_container(unique_name, command=TRAPPING)

    response = act(operator_client, ident, "kill", {"signal": signal})

    assert response.status_code == 200, response.json()
    assert docker_client.api.wait(ident, timeout=10)["StatusCode"] == 7
    assert b"got-usr1" in docker_client.api.logs(ident)


def test_kill_of_a_stopped_container_is_409(operator_client, stopped):
    response = act(operator_client, stopped, "kill")

    assert response.status_code == 409
    assert "not running" in response.json()["message"]
    assert only_row("container.kill").outcome == "failure"


@pytest.mark.parametrize(
    ("signal", "code"),
    [("sigterm", "invalid"), ("SIG TERM", "invalid"), ("SIGNOPE", "engine_refused")],
)
def test_kill_refuses_an_unknown_signal(
    operator_client, docker_client, running, signal, code
):
    response = act(operator_client, running, "kill", {"signal": signal})

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert state_of(docker_client, running)["Running"] is True


def test_rename(operator_client, docker_client, running, unique_name):
    new_name = f"{unique_name}-renamed"

    response = act(operator_client, running, "rename", {"name": new_name})

    assert response.status_code == 200, response.json()
    assert docker_client.api.inspect_container(running)["Name"] == f"/{new_name}"
    assert operator_client.get(f"{URL}{new_name}/").json()["Id"] == running
    row = only_row("container.rename")
    assert (row.outcome, row.resource_name, row.details["name"]) == (
        "success",
        new_name,
        new_name,
    )


def test_rename_to_a_name_in_use_is_409(
    operator_client, docker_client, make_container, running, unique_name
):
    make_container(f"{unique_name}-other", start=False)

    response = act(operator_client, running, "rename", {"name": f"{unique_name}-other"})

    assert response.status_code == 409
    assert "already in use" in response.json()["message"]
    assert docker_client.api.inspect_container(running)["Name"] == f"/{unique_name}"
    assert only_row("container.rename").outcome == "failure"


@pytest.mark.parametrize("name", ["has space", "", "-dash", "a/b", None])
def test_rename_refuses_a_bad_name(
    operator_client, docker_client, running, unique_name, name
):
    response = act(operator_client, running, "rename", {"name": name})

    assert response.status_code == 400
    assert response.json()["message"].startswith("name: ")
    assert docker_client.api.inspect_container(running)["Name"] == f"/{unique_name}"


def test_admin_may_act_too(admin_client, docker_client, running):
    response = act(admin_client, running, "stop", {"timeout": 0})

    assert response.status_code == 200
    assert state_of(docker_client, running)["Running"] is False


MUTATIONS = [
    ("start", {}),
    ("stop", {"timeout": 0}),
    ("restart", {"timeout": 0}),
    ("pause", {}),
    ("unpause", {}),
    ("kill", {"signal": "SIGKILL"}),
    ("rename", {"name": f"dpt-{RUN_ID}-stolen"}),
]


@pytest.mark.parametrize(("action", "body"), MUTATIONS)
def test_viewer_cannot_change_a_container(
    viewer_client, docker_client, running, unique_name, action, body
):
    before = docker_client.api.inspect_container(running)

    response = act(viewer_client, running, action, body)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    after = docker_client.api.inspect_container(running)
    assert (after["Name"], after["State"]["Status"], after["State"]["StartedAt"]) == (
        before["Name"],
        before["State"]["Status"],
        before["State"]["StartedAt"],
    )
    row = only_row(f"container.{action}")
    assert (row.outcome, row.actor_username, row.resource_id) == (
        "failure",
        "vera-viewer",
        running,
    )


@pytest.mark.parametrize(("action", "body"), MUTATIONS)
def test_anonymous_cannot_change_a_container(
    anon_client, docker_client, running, action, body
):
    response = act(anon_client, running, action, body)

    assert response.status_code == 401
    assert state_of(docker_client, running)["Status"] == "running"
    row = only_row(f"container.{action}")
    assert (row.outcome, row.actor) == ("failure", None)


@pytest.mark.parametrize(("action", "body"), MUTATIONS)
def test_acting_on_an_unknown_container_is_404(
    operator_client, docker_client, action, body
):
    response = act(operator_client, UNKNOWN, action, body)

    assert response.status_code == 404, response.json()
    assert response.json()["code"] == "not_found"
    assert only_row(f"container.{action}").outcome == "failure"


def test_an_unknown_environment_is_404(operator_client, docker_client, running):
    response = operator_client.post(
        f"{URL}{running}/stop/?environment=nope", {"timeout": 0}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"
    assert state_of(docker_client, running)["Running"] is True


def test_get_on_an_action_is_not_allowed(operator_client, running):
    response = operator_client.get(f"{URL}{running}/start/")

    assert response.status_code == 405
