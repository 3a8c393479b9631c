"""Containers REST API against the real engine: list, inspect, create, delete."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
import uuid

import docker
import pytest

from apps.audit.models import AuditLog
from tests.conftest import LABELS, RUN_ID

pytestmark = pytest.mark.django_db

URL = "/api/v1/containers/"
SECRET = "hunter2-do-not-leak"
MIB = 1024 * 1024


def spec(image: str, name: str, **extra) -> dict:
    """A create body that session teardown can find and remove."""
    labels = {**LABELS, **extra.pop("labels", {})}
    return {"image": image, "name": name, "labels": labels, **extra}


def audit_rows(action: str, outcome: str | None = None):
    rows = AuditLog.objects.filter(action=action)
    return rows.filter(outcome=outcome) if outcome else rows


@pytest.fixture(scope="module")
def listed(docker_client, test_image):
    """One running and one stopped container that only this module lists."""
    case = uuid.uuid4().hex[:6]
    labels = {**LABELS, "dockpilot.case": case}
    names = {state: f"dpt-{RUN_ID}-{state}-{case}" for state in ("running", "stopped")}
    ids = {}
    for state, name in names.items():
        created = docker_client.api.create_container(
            test_image,
            command=["sleep", "300"],
            name=name,
            labels=labels,
            environment=[f"SECRET_TOKEN={SECRET}", "PLAIN=visible"],
        )
        ids[state] = created["Id"]
    docker_client.api.start(ids["running"])
    yield {"case": case, "names": names, "ids": ids, "image": test_image}
    for ident in ids.values():
        docker_client.api.remove_container(ident, force=True, v=True)


def list_case(client, listed, **params):
    params = {"label": f"dockpilot.case={listed['case']}", **params}
    return client.get(URL, params)


# -- list ------------------------------------------------------------------


def test_list_shows_running_and_stopped_containers_by_default(viewer_client, listed):
    response = list_case(viewer_client, listed)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    assert {item["name"] for item in body["results"]} == set(listed["names"].values())


def test_list_of_running_containers_only(viewer_client, listed):
    response = list_case(viewer_client, listed, all="false")

    names = [item["name"] for item in response.json()["results"]]
    assert names == [listed["names"]["running"]]


def test_list_items_are_shaped_for_a_person(viewer_client, listed):
    response = list_case(viewer_client, listed, all="false")

    item = response.json()["results"][0]
    assert set(item) == {
        "id",
        "name",
        "image",
        "image_id",
        "command",
        "created",
        "state",
        "status",
        "health",
        "ports",
        "labels",
        "networks",
        "compose_project",
    }
    assert item["id"] == listed["ids"]["running"]
    assert item["name"] == listed["names"]["running"]
    assert item["image"] == listed["image"]
    assert item["state"] == "running"
    assert item["status"].startswith("Up")
    assert item["command"] == "sleep 300"
    assert item["created"].endswith("+00:00")
    assert item["networks"] == ["bridge"]
    assert item["labels"]["dockpilot.case"] == listed["case"]
    assert item["health"] is None
    assert item["compose_project"] is None


def test_list_hides_environment_values(viewer_client, listed):
    response = list_case(viewer_client, listed)

    assert SECRET not in response.content.decode()


@pytest.mark.parametrize(
    ("status", "state"), [("running", "running"), ("created", "stopped")]
)
def test_list_filters_by_status(viewer_client, listed, status, state):
    response = list_case(viewer_client, listed, status=status)

    assert [item["name"] for item in response.json()["results"]] == [
        listed["names"][state]
    ]


def test_list_filters_by_name(viewer_client, listed):
    response = list_case(viewer_client, listed, name=listed["names"]["stopped"])

    assert [item["id"] for item in response.json()["results"]] == [
        listed["ids"]["stopped"]
    ]


def test_list_filters_by_image(viewer_client, listed):
    response = list_case(viewer_client, listed, image=listed["image"])
    assert response.json()["count"] == 2

    other = list_case(viewer_client, listed, image="dockpilot-test/never-built:1")
    assert other.status_code == 200
    assert other.json()["count"] == 0


def test_list_filters_by_every_label_given(viewer_client, listed):
    both = viewer_client.get(
        URL, {"label": [f"dockpilot.case={listed['case']}", f"dockpilot.test={RUN_ID}"]}
    )
    assert both.json()["count"] == 2

    none = viewer_client.get(
        URL,
        {"label": [f"dockpilot.case={listed['case']}", "dockpilot.test=another-run"]},
    )
    assert none.json()["count"] == 0


def test_list_is_paginated(viewer_client, listed):
    first = list_case(viewer_client, listed, page_size=1).json()
    second = list_case(viewer_client, listed, page_size=1, page=2).json()

    assert first["count"] == second["count"] == 2
    assert len(first["results"]) == len(second["results"]) == 1
    assert first["next"] and first["previous"] is None
    assert second["next"] is None
    assert {first["results"][0]["id"], second["results"][0]["id"]} == set(
        listed["ids"].values()
    )


def test_a_page_past_the_end_is_404(viewer_client, listed):
    response = list_case(viewer_client, listed, page_size=1, page=9)

    assert response.status_code == 404


def test_list_refuses_an_unknown_status(viewer_client, listed):
    response = list_case(viewer_client, listed, status="sleeping")

    assert response.status_code == 400
    assert response.json()["message"].startswith("status:")


def test_anonymous_cannot_list(anon_client, docker_client):
    response = anon_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_unknown_environment_is_404(viewer_client, docker_client):
    response = viewer_client.get(URL, {"environment": "nope"})

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"
    assert "nope" in response.json()["message"]


# -- inspect ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["ids", "names"])
def test_inspect_by_id_or_by_name(viewer_client, listed, key):
    ident = listed[key]["running"]

    response = viewer_client.get(f"{URL}{ident}/")

    assert response.status_code == 200, response.json()
    document = response.json()
    assert document["Id"] == listed["ids"]["running"]
    assert document["Name"] == "/" + listed["names"]["running"]
    assert document["State"]["Running"] is True


def test_inspect_by_short_id(viewer_client, listed):
    response = viewer_client.get(f"{URL}{listed['ids']['stopped'][:12]}/")

    assert response.json()["Id"] == listed["ids"]["stopped"]


def test_viewer_sees_environment_names_but_not_values(viewer_client, listed):
    response = viewer_client.get(f"{URL}{listed['ids']['running']}/")

    env = response.json()["Config"]["Env"]
    assert "SECRET_TOKEN=***" in env
    assert "PLAIN=***" in env
    assert SECRET not in response.content.decode()


def test_operator_sees_environment_values(operator_client, listed):
    response = operator_client.get(f"{URL}{listed['ids']['running']}/")

    assert f"SECRET_TOKEN={SECRET}" in response.json()["Config"]["Env"]


def test_inspect_of_an_unknown_container_is_404(viewer_client, docker_client):
    response = viewer_client.get(f"{URL}dpt-{RUN_ID}-no-such-container/")

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert "no such container" in body["message"].lower()


@pytest.mark.parametrize(
    "path", ["../", "..", "./", "%2e%2e/", "../logs/", "../stats/", "../top/"]
)
def test_dot_segments_are_no_container_name(viewer_client, docker_client, path):
    # Passed on, ".." would climb the engine's URL to another endpoint.
    response = viewer_client.get(f"{URL}{path}")

    assert response.status_code == 404
    assert response.json()["message"].startswith("No route for")


def test_dot_segments_cannot_be_acted_on(operator_client, docker_client):
    stop = operator_client.post(f"{URL}../stop/", {"timeout": 0}, format="json")
    delete = operator_client.delete(f"{URL}../?force=true")

    assert (stop.status_code, delete.status_code) == (404, 404)


def test_anonymous_cannot_inspect(anon_client, listed):
    assert anon_client.get(f"{URL}{listed['ids']['running']}/").status_code == 401


# -- create ----------------------------------------------------------------


@pytest.fixture
def network_name(docker_client):
    name = f"dpt-{RUN_ID}-net-{uuid.uuid4().hex[:6]}"
    docker_client.api.create_network(name, driver="bridge", labels=LABELS)
    yield name
    for container in docker_client.api.containers(all=True, filters={"network": name}):
        docker_client.api.remove_container(container["Id"], force=True, v=True)
    docker_client.api.remove_network(name)


@pytest.fixture
def volume_name(docker_client):
    # Made beforehand: the portal lets non-admins mount only volumes that
    # exist and that they may use (the engine would make one on first use).
    name = f"dpt-{RUN_ID}-vol-{uuid.uuid4().hex[:6]}"
    docker_client.api.create_volume(name, labels=LABELS)
    yield name
    for container in docker_client.api.containers(all=True, filters={"volume": name}):
        docker_client.api.remove_container(container["Id"], force=True, v=True)
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.api.remove_volume(name, force=True)


def fetch(port: int) -> str:
    """One bounded GET to a port our own container published on loopback."""
    deadline = time.monotonic() + 5
    for _ in range(50):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/", timeout=1
            ) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port}")


def test_create_applies_every_field_of_the_spec(
    operator_client, docker_client, test_image, unique_name, network_name, volume_name
):
    body = spec(
        test_image,
        unique_name,
        entrypoint=["sh", "-c"],
        command=[
            "mkdir -p /www && echo $GREETING > /www/index.html && "
            "exec httpd -f -p 8080 -h /www"
        ],
        env={"GREETING": "hello-from-dockpilot"},
        ports=[{"container_port": 8080}],
        volumes=[
            {"source": volume_name, "target": "/data"},
            {"source": volume_name, "target": "/ro", "read_only": True},
        ],
        labels={"dockpilot.role": "web"},
        restart_policy={"name": "on-failure", "maximum_retry_count": 3},
        memory="512m",
        cpus=0.5,
        network=network_name,
        working_dir="/data",
        hostname="web-1",
        start=True,
    )

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["name"] == unique_name and created["started"] is True
    document = docker_client.api.inspect_container(created["id"])
    config, host = document["Config"], document["HostConfig"]
    assert document["Name"] == f"/{unique_name}"
    assert config["Image"] == test_image
    assert config["Entrypoint"] == ["sh", "-c"]
    assert config["Cmd"] == body["command"]
    assert "GREETING=hello-from-dockpilot" in config["Env"]
    assert config["Labels"] == {**LABELS, "dockpilot.role": "web"}
    assert config["WorkingDir"] == "/data"
    assert config["Hostname"] == "web-1"
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Memory"] == 512 * MIB
    assert host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == network_name
    assert host["PortBindings"] == {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]
    }
    mounts = {
        m["Destination"]: (m["Type"], m["Name"], m["RW"]) for m in document["Mounts"]
    }
    assert mounts == {
        "/data": ("volume", volume_name, True),
        "/ro": ("volume", volume_name, False),
    }

    published = document["NetworkSettings"]["Ports"]["8080/tcp"]
    assert [binding["HostIp"] for binding in published] == ["127.0.0.1"]
    assert fetch(int(published[0]["HostPort"])).strip() == "hello-from-dockpilot"


def test_create_without_start_leaves_the_container_created(
    operator_client, docker_client, test_image, unique_name
):
    response = operator_client.post(URL, spec(test_image, unique_name), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["started"] is False
    state = docker_client.api.inspect_container(unique_name)["State"]
    assert state["Status"] == "created"


def test_create_takes_a_command_string_and_an_env_list(
    operator_client, docker_client, test_image, unique_name
):
    body = spec(
        test_image,
        unique_name,
        command="sh -c 'echo \"a b\"; sleep 1'",
        env=["A=1", "B=two=2", "EMPTY"],
        restart_policy={"name": "always"},
    )

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    document = docker_client.api.inspect_container(unique_name)
    assert document["Config"]["Cmd"] == ["sh", "-c", 'echo "a b"; sleep 1']
    assert {"A=1", "B=two=2", "EMPTY="} <= set(document["Config"]["Env"])
    assert document["HostConfig"]["RestartPolicy"]["Name"] == "always"


def test_create_publishes_a_chosen_port_on_loopback(
    operator_client, docker_client, test_image, unique_name
):
    body = spec(
        test_image,
        unique_name,
        ports=[{"container_port": 53, "protocol": "udp", "host_ip": "127.0.0.1"}],
    )

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    bindings = docker_client.api.inspect_container(unique_name)["HostConfig"][
        "PortBindings"
    ]
    assert bindings == {"53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}


def test_create_on_network_none(
    operator_client, docker_client, test_image, unique_name
):
    response = operator_client.post(
        URL, spec(test_image, unique_name, network="none"), format="json"
    )

    assert response.status_code == 201, response.json()
    assert (
        docker_client.api.inspect_container(unique_name)["HostConfig"]["NetworkMode"]
        == "none"
    )


def test_create_writes_an_audit_row_without_environment_values(
    operator_client, operator_user, test_image, unique_name
):
    body = spec(test_image, unique_name, env={"DB_PASSWORD": SECRET, "MODE": "x"})

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    row = audit_rows("container.create").get()
    assert row.outcome == "success"
    assert row.actor == operator_user
    assert row.resource_id == response.json()["id"]
    assert row.resource_name == unique_name
    assert row.details["spec"]["env"] == ["DB_PASSWORD=***", "MODE=***"]
    assert SECRET not in json.dumps(row.details)
    assert row.request_id


def test_create_and_start_write_one_row_each(operator_client, test_image, unique_name):
    response = operator_client.post(
        URL, spec(test_image, unique_name, start=True), format="json"
    )

    assert response.status_code == 201, response.json()
    assert audit_rows("container.create", "success").count() == 1
    start = audit_rows("container.start", "success").get()
    assert start.resource_id == response.json()["id"]


def test_admin_may_create_on_the_host_network(
    admin_client, docker_client, test_image, unique_name
):
    response = admin_client.post(
        URL, spec(test_image, unique_name, network="host"), format="json"
    )

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"image": "not a reference"}, "image", "not a valid image reference"),
        ({"image": "Dockpilot-Test/Busybox:1"}, "image", "lowercase"),
        ({"image": ""}, "image", ""),
        ({"restart_polcy": {"name": "always"}}, "restart_polcy", "Unknown field"),
        ({"cpus": "many"}, "cpus", "valid number"),
        ({"cpus": 0}, "cpus", ""),
        ({"command": 5}, "command", "list of strings"),
        ({"command": ["sh", 5]}, "command", "list of strings"),
        ({"ports": "8080"}, "ports", ""),
        ({"ports": [{"container_port": 70000}]}, "ports[0].container_port", ""),
        (
            {"ports": [{"container_port": 80, "host_ip": "localhost"}]},
            "ports[0].host_ip",
            "",
        ),
        (
            {"ports": [{"container_port": 80, "proto": "tcp"}]},
            "ports[0].proto",
            "Unknown field",
        ),
        ({"labels": ["a=b"]}, "labels", ""),
        ({"tty": "perhaps"}, "tty", ""),
        ({"memory": "lots"}, "memory", "512m"),
        ({"memory": "1k"}, "memory", "At least"),
        ({"memory": True}, "memory", "512m"),
        ({"name": "has a space"}, "name", "letters, digits"),
        ({"name": "/slash"}, "name", "letters, digits"),
        ({"env": {"1BAD": "x"}}, "env", "not a valid variable name"),
        ({"env": "A=1"}, "env", "NAME"),
        ({"restart_policy": {"name": "sometimes"}}, "restart_policy.name", ""),
        (
            {"volumes": [{"source": "v", "target": "relative"}]},
            "volumes[0].target",
            "absolute",
        ),
        ({"network": "bad name"}, "network", "container:<name>"),
        ({"working_dir": "tmp"}, "working_dir", "absolute"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    operator_client, docker_client, test_image, unique_name, changes, field, fragment
):
    body = {**spec(test_image, unique_name), **changes}

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    message = response.json()["message"]
    assert message.startswith(f"{field}: "), message
    assert fragment in message
    assert not docker_client.api.containers(all=True, filters={"name": unique_name})
    row = audit_rows("container.create").get()
    assert row.outcome == "failure"


def test_create_requires_an_image(operator_client, docker_client, unique_name):
    response = operator_client.post(
        URL, {"name": unique_name, "labels": LABELS}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("image: ")


def test_create_refuses_a_body_that_is_not_json(operator_client, docker_client):
    response = operator_client.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_memory_accepts_sizes_in_units(
    operator_client, docker_client, test_image, unique_name
):
    body = spec(test_image, unique_name, memory="64MiB")

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert (
        docker_client.api.inspect_container(unique_name)["HostConfig"]["Memory"]
        == 64 * MIB
    )


def test_create_of_an_image_not_on_the_engine_is_a_clear_404(
    operator_client, docker_client, unique_name
):
    body = spec(
        f"dockpilot-test/never-built-{RUN_ID}:1", unique_name, env={"API_TOKEN": SECRET}
    )

    response = operator_client.post(URL, body, format="json")

    assert response.status_code == 404, response.json()
    error = response.json()
    assert error["code"] == "image_not_found"
    assert error["message"].startswith("image: ")
    assert "pull or build it first" in error["message"]
    row = audit_rows("container.create").get()
    assert row.outcome == "failure"
    assert "not on this engine" in row.reason
    assert SECRET not in json.dumps(row.details) + row.reason


def test_create_with_a_name_in_use_is_409(
    operator_client, make_container, test_image, unique_name
):
    make_container(unique_name, start=False)

    response = operator_client.post(URL, spec(test_image, unique_name), format="json")

    assert response.status_code == 409
    assert "already in use" in response.json()["message"]
    assert audit_rows("container.create").get().outcome == "failure"


def test_create_beyond_the_engines_cpus_is_400(
    operator_client, docker_client, test_image, unique_name
):
    response = operator_client.post(
        URL, spec(test_image, unique_name, cpus=1000), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "engine_refused"
    assert "CPUs" in response.json()["message"]


def test_create_in_an_unknown_environment_is_404(
    operator_client, docker_client, test_image, unique_name
):
    response = operator_client.post(
        f"{URL}?environment=nope", spec(test_image, unique_name), format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"
    assert not docker_client.api.containers(all=True, filters={"name": unique_name})


def test_viewer_cannot_create_a_container(
    viewer_client, docker_client, test_image, unique_name
):
    response = viewer_client.post(URL, spec(test_image, unique_name), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not docker_client.api.containers(all=True, filters={"name": unique_name})
    row = audit_rows("container.create").get()
    assert (row.outcome, row.actor_username) == ("failure", "vera-viewer")


def test_anonymous_cannot_create_a_container(
    anon_client, docker_client, test_image, unique_name
):
    response = anon_client.post(URL, spec(test_image, unique_name), format="json")

    assert response.status_code == 401
    assert not docker_client.api.containers(all=True, filters={"name": unique_name})
    assert audit_rows("container.create", "failure").count() == 1


# -- delete ----------------------------------------------------------------


def exists(docker_client, ident: str) -> bool:
    try:
        docker_client.api.inspect_container(ident)
    except docker.errors.NotFound:
        return False
    return True


def test_delete_of_a_running_container_is_409_without_force(
    operator_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name)

    response = operator_client.delete(f"{URL}{unique_name}/")

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "container_running"
    assert unique_name in error["message"] and "force=true" in error["message"]
    assert exists(docker_client, ident)
    row = audit_rows("container.delete").get()
    assert (row.outcome, row.resource_id) == ("failure", ident)


def test_delete_with_force_removes_a_running_container(
    operator_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name)

    response = operator_client.delete(f"{URL}{ident}/?force=true")

    assert response.status_code == 204
    assert not exists(docker_client, ident)
    row = audit_rows("container.delete").get()
    assert (row.outcome, row.resource_id, row.resource_name) == (
        "success",
        ident,
        unique_name,
    )
    assert row.details["force"] is True


def test_delete_of_a_stopped_container(
    operator_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name, start=False)

    response = operator_client.delete(f"{URL}{unique_name}/")

    assert response.status_code == 204
    assert not exists(docker_client, ident)


def test_delete_of_an_unknown_container_is_404(operator_client, docker_client):
    response = operator_client.delete(f"{URL}dpt-{RUN_ID}-no-such-container/")

    assert response.status_code == 404
    assert audit_rows("container.delete").get().outcome == "failure"


def test_delete_refuses_a_bad_force_value(operator_client, make_container, unique_name):
    make_container(unique_name, start=False)

    response = operator_client.delete(f"{URL}{unique_name}/?force=maybe")

    assert response.status_code == 400
    assert response.json()["message"].startswith("force:")


def test_viewer_cannot_delete_a_container(
    viewer_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name, start=False)

    response = viewer_client.delete(f"{URL}{ident}/?force=true")

    assert response.status_code == 403
    assert exists(docker_client, ident)
    assert audit_rows("container.delete").get().outcome == "failure"


def test_anonymous_cannot_delete_a_container(
    anon_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name, start=False)

    response = anon_client.delete(f"{URL}{ident}/?force=true")

    assert response.status_code == 401
    assert exists(docker_client, ident)
