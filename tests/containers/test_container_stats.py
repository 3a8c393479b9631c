"""One stats sample and the process list of containers on the real engine.

A sample costs about a second (the engine reads twice to give CPU %), so
this module takes as few as it can.
"""

from __future__ import annotations

import pytest

from tests.conftest import RUN_ID

pytestmark = pytest.mark.django_db

URL = "/api/v1/containers/"
MIB = 1024 * 1024
UNKNOWN = f"dpt-{RUN_ID}-no-such-container"


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def sample(client, ident: str):
    response = client.get(f"{URL}{ident}/stats/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_stats_of_a_running_container_on_a_bridge(
    viewer_client, docker_client, make_container, unique_name
):
    limit = 64 * MIB
    ident = make_container(
        unique_name, host_config=docker_client.api.create_host_config(mem_limit=limit)
    )

    stats = sample(viewer_client, unique_name)

    assert (stats["id"], stats["name"]) == (ident, unique_name)
    assert is_number(stats["cpu_percent"]) and stats["cpu_percent"] >= 0
    memory = stats["memory"]
    assert isinstance(memory["used"], int) and 0 < memory["used"] < limit
    assert memory["limit"] == limit
    assert is_number(memory["percent"]) and 0 < memory["percent"] < 100
    assert memory["percent"] == round(memory["used"] / limit * 100, 2)
    assert memory["cgroup"] in (1, 2)
    network = stats["network"]
    assert set(network) == {"rx_bytes", "tx_bytes"}
    assert all(isinstance(value, int) and value >= 0 for value in network.values())
    assert set(stats["block_io"]) == {"read_bytes", "write_bytes"}
    assert all(isinstance(value, int) for value in stats["block_io"].values())
    assert isinstance(stats["pids"], int) and stats["pids"] >= 1
    assert stats["read_at"]


@pytest.mark.parametrize("mode", ["none", "host"])
def test_stats_have_no_network_without_a_network_of_its_own(
    viewer_client, docker_client, make_container, unique_name, mode
):
    # A container on the host network only sleeps: it opens nothing.
    ident = make_container(
        unique_name, host_config=docker_client.api.create_host_config(network_mode=mode)
    )

    stats = sample(viewer_client, ident)

    assert stats["network"] is None
    assert is_number(stats["cpu_percent"])
    assert stats["memory"]["used"] is not None


@pytest.mark.parametrize("started", [False, True])
def test_stats_of_a_stopped_container_are_409(
    viewer_client, docker_client, make_container, unique_name, started
):
    ident = make_container(unique_name, start=started)
    if started:
        docker_client.api.kill(ident)
        docker_client.api.wait(ident, timeout=10)

    response = viewer_client.get(f"{URL}{ident}/stats/")

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "container_not_running"
    state = "exited" if started else "created"
    assert error["message"] == (
        f"container '{unique_name}' is {state}: start it to "
        "read its stats or processes."
    )


def test_stats_of_an_unknown_container_are_404(viewer_client, docker_client):
    response = viewer_client.get(f"{URL}{UNKNOWN}/stats/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_cannot_read_stats(anon_client, make_container, unique_name):
    ident = make_container(unique_name, start=False)

    assert anon_client.get(f"{URL}{ident}/stats/").status_code == 401


def test_stats_in_an_unknown_environment_are_404(
    viewer_client, make_container, unique_name
):
    ident = make_container(unique_name, start=False)

    response = viewer_client.get(f"{URL}{ident}/stats/", {"environment": "nope"})

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"


# -- top -------------------------------------------------------------------


def test_top_lists_the_processes(viewer_client, make_container, unique_name):
    ident = make_container(unique_name)

    response = viewer_client.get(f"{URL}{unique_name}/top/")

    assert response.status_code == 200, response.json()
    top = response.json()
    assert top["id"] == ident
    assert "PID" in top["titles"]
    command = top["titles"].index("CMD")
    assert [row[command] for row in top["processes"]] == ["sleep 300"]


def test_top_of_a_paused_container_still_lists_it(
    viewer_client, docker_client, make_container, unique_name
):
    ident = make_container(unique_name)
    docker_client.api.pause(ident)

    response = viewer_client.get(f"{URL}{ident}/top/")

    assert response.status_code == 200
    assert len(response.json()["processes"]) == 1


def test_top_of_a_stopped_container_is_409(viewer_client, make_container, unique_name):
    ident = make_container(unique_name, start=False)

    response = viewer_client.get(f"{URL}{ident}/top/")

    assert response.status_code == 409
    assert response.json()["code"] == "container_not_running"


def test_top_of_an_unknown_container_is_404(viewer_client, docker_client):
    response = viewer_client.get(f"{URL}{UNKNOWN}/top/")

    assert response.status_code == 404


def test_anonymous_cannot_read_top(anon_client, make_container, unique_name):
    ident = make_container(unique_name)

    assert anon_client.get(f"{URL}{ident}/top/").status_code == 401
