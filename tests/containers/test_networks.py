"""The network endpoints against the real engine.

Networks made here carry the suite's label, a dpt- name and a subnet picked
from 10.213.0.0/16 that no network on the engine uses yet. No traffic is
ever sent to them.
"""

from __future__ import annotations

import ipaddress
import random
import uuid

import pytest

from apps.audit.models import AuditLog, Outcome
from tests.conftest import LABELS, TEST_LABEL

pytestmark = pytest.mark.django_db

CASE_LABEL = f"{TEST_LABEL}.case"
TEST_RANGE = ipaddress.ip_network("10.213.0.0/16")


def _used_subnets(docker_client) -> list[ipaddress.IPv4Network]:
    used = []
    for network in docker_client.api.networks():
        for config in (network.get("IPAM") or {}).get("Config") or []:
            subnet = ipaddress.ip_network(config.get("Subnet", "0.0.0.0/32"))
            if subnet.version == 4:
                used.append(subnet)
    return used


@pytest.fixture
def free_subnet(docker_client):
    """Pick a /24 in the test range that no network on the engine overlaps."""

    def _pick() -> ipaddress.IPv4Network:
        used = _used_subnets(docker_client)
        candidates = list(TEST_RANGE.subnets(new_prefix=24))
        random.shuffle(candidates)
        for candidate in candidates:
            if not any(candidate.overlaps(subnet) for subnet in used):
                return candidate
        pytest.fail("every /24 of 10.213.0.0/16 is taken on this engine")

    return _pick


@pytest.fixture
def subnet(free_subnet) -> ipaddress.IPv4Network:
    return free_subnet()


@pytest.fixture
def network(docker_client, unique_name, subnet) -> str:
    """A labelled network made straight on the engine; returns its name."""
    ipam = {"Driver": "default", "Config": [{"Subnet": str(subnet)}]}
    docker_client.api.create_network(
        unique_name, driver="bridge", ipam=ipam, labels=LABELS, check_duplicate=True
    )
    return unique_name


def last_audit(action: str) -> AuditLog:
    return AuditLog.objects.filter(action=action).order_by("-id").first()


def network_exists(docker_client, name: str) -> bool:
    return any(n["Name"] == name for n in docker_client.api.networks(names=[name]))


def host(subnet: ipaddress.IPv4Network, number: int) -> str:
    return str(subnet.network_address + number)


@pytest.mark.parametrize("persona", ["operator_client", "admin_client"])
def test_operators_and_admins_create_a_network_and_it_is_audited(
    request, persona, docker_client, unique_name, subnet
):
    client = request.getfixturevalue(persona)
    body = {
        "name": unique_name,
        "subnet": str(subnet),
        "gateway": host(subnet, 1),
        "ip_range": str(next(subnet.subnets(new_prefix=25))),
        "internal": True,
        "attachable": True,
        "labels": LABELS,
    }

    response = client.post("/api/v1/networks/", body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["name"] == unique_name and created["driver"] == "bridge"
    assert created["subnets"] == [{"subnet": str(subnet), "gateway": host(subnet, 1)}]
    assert created["internal"] is True and created["ipv6"] is False
    assert created["labels"] == LABELS and created["scope"] == "local"
    assert network_exists(docker_client, unique_name)
    row = last_audit("network.create")
    assert row.outcome == Outcome.SUCCESS and row.resource_type == "network"
    assert row.resource_id == created["id"] and row.resource_name == unique_name


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"subnet": "10.213.7.5/24"}, "subnet", "use 10.213.7.0/24"),
        ({"subnet": "banana"}, "subnet", "CIDR"),
        ({"subnet": "10.213.7.0/24", "gateway": "10.213.8.1"}, "gateway", "outside"),
        ({"subnet": "10.213.7.0/24", "gateway": "ten"}, "gateway", "not an IP"),
        ({"gateway": "10.213.7.1"}, "gateway", "Give a subnet"),
        (
            {"subnet": "10.213.7.0/24", "ip_range": "10.213.0.0/23"},
            "ip_range",
            "inside",
        ),
        ({"subnet": "fd00:213::/64"}, "enable_ipv6", "enable_ipv6"),
        ({"name": "bad name!"}, "name", ""),
        ({"subnt": "10.213.7.0/24"}, "subnt", "Unknown field"),
    ],
)
def test_bad_network_input_is_refused_naming_the_field(
    operator_client, docker_client, unique_name, body, field, words
):
    response = operator_client.post(
        "/api/v1/networks/", {"name": unique_name, **body}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith(f"{field}:") and words in message
    assert not network_exists(docker_client, unique_name)
    assert last_audit("network.create").outcome == Outcome.FAILURE


def test_a_subnet_that_overlaps_another_network_is_a_conflict(
    operator_client, network, subnet, unique_name
):
    response = operator_client.post(
        "/api/v1/networks/",
        {"name": f"{unique_name}-2", "subnet": str(subnet), "labels": LABELS},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["message"].startswith(f"subnet: {subnet} overlaps")


def test_a_taken_network_name_is_a_conflict(operator_client, network, free_subnet):
    response = operator_client.post(
        "/api/v1/networks/",
        {"name": network, "subnet": str(free_subnet()), "labels": LABELS},
        format="json",
    )

    assert response.status_code == 409
    assert network in response.json()["message"]


def test_viewer_lists_networks_filtered_by_name_and_label(
    viewer_client, network, subnet
):
    by_name = viewer_client.get("/api/v1/networks/", {"name": network})
    by_label = viewer_client.get(
        "/api/v1/networks/", {"label": f"{TEST_LABEL}={LABELS[TEST_LABEL]}"}
    )

    assert by_name.status_code == 200
    [listed] = [n for n in by_name.json()["results"] if n["name"] == network]
    assert listed["subnets"][0]["subnet"] == str(subnet)
    assert set(listed) == {
        "id",
        "name",
        "driver",
        "scope",
        "internal",
        "ipv6",
        "subnets",
        "labels",
        "created",
    }
    assert network in {n["name"] for n in by_label.json()["results"]}


def test_inspecting_a_missing_network_answers_404(viewer_client, unique_name):
    response = viewer_client.get(f"/api/v1/networks/{unique_name}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_connected_container_is_listed_and_blocks_removal_until_disconnected(
    operator_client, docker_client, network, subnet, make_container, unique_name
):
    container = f"{unique_name}-web"
    make_container(container)
    address = host(subnet, 10)

    connected = operator_client.post(
        f"/api/v1/networks/{network}/connect/",
        {"container": container, "aliases": ["web"], "ipv4_address": address},
        format="json",
    )
    assert connected.status_code == 200, connected.json()

    inspected = operator_client.get(f"/api/v1/networks/{network}/").json()
    [attached] = inspected["attached_containers"]
    assert attached["name"] == container
    assert attached["ipv4_address"].startswith(f"{address}/")

    refused = operator_client.delete(f"/api/v1/networks/{network}/")
    assert refused.status_code == 409
    assert refused.json()["message"] == (
        f"network '{network}' has container '{container}' attached: disconnect "
        "or remove the container first."
    )
    assert last_audit("network.delete").outcome == Outcome.FAILURE

    disconnected = operator_client.post(
        f"/api/v1/networks/{network}/disconnect/",
        {"container": container},
        format="json",
    )
    assert disconnected.status_code == 200, disconnected.json()
    assert operator_client.delete(f"/api/v1/networks/{network}/").status_code == 204
    assert not network_exists(docker_client, network)

    actions = ["network.connect", "network.disconnect", "network.delete"]
    for action in actions:
        assert last_audit(action).outcome == Outcome.SUCCESS, action


def test_connecting_with_an_address_outside_the_subnet_is_refused(
    operator_client, network, make_container, unique_name
):
    container = f"{unique_name}-web"
    make_container(container, start=False)

    response = operator_client.post(
        f"/api/v1/networks/{network}/connect/",
        {"container": container, "ipv4_address": "10.214.0.10"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("ipv4_address: 10.214.0.10 is outside")
    assert last_audit("network.connect").outcome == Outcome.FAILURE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "container"),
        ({"container": "../x"}, "container"),
        ({"container": "dpt-x", "ipv4_address": "10.213.0.300"}, "ipv4_address"),
        ({"container": "dpt-x", "aliases": ["no spaces"]}, "aliases"),
        ({"container": "dpt-x", "alias": ["web"]}, "alias"),
    ],
)
def test_bad_connect_input_is_refused_naming_the_field(
    operator_client, network, body, field
):
    response = operator_client.post(
        f"/api/v1/networks/{network}/connect/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(field)


def test_connecting_a_missing_container_answers_404(
    operator_client, network, unique_name
):
    response = operator_client.post(
        f"/api/v1/networks/{network}/connect/",
        {"container": f"{unique_name}-missing"},
        format="json",
    )

    assert response.status_code == 404
    assert last_audit("network.connect").outcome == Outcome.FAILURE


def test_connecting_to_a_missing_network_answers_404(operator_client, unique_name):
    response = operator_client.post(
        f"/api/v1/networks/{unique_name}/connect/",
        {"container": "dpt-x"},
        format="json",
    )

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["bridge", "host", "none"])
def test_predefined_networks_cannot_be_removed(admin_client, name):
    response = admin_client.delete(f"/api/v1/networks/{name}/")

    assert response.status_code == 409
    assert response.json()["message"] == (
        f"network '{name}' is predefined by the engine and cannot be removed."
    )
    row = last_audit("network.delete")
    assert row.outcome == Outcome.FAILURE and row.resource_name == name


def test_deleting_a_missing_network_answers_404(operator_client, unique_name):
    response = operator_client.delete(f"/api/v1/networks/{unique_name}/")

    assert response.status_code == 404
    assert last_audit("network.delete").outcome == Outcome.FAILURE


def test_viewer_cannot_create_a_network(viewer_client, docker_client, unique_name):
    response = viewer_client.post(
        "/api/v1/networks/", {"name": unique_name}, format="json"
    )

    assert response.status_code == 403
    assert not network_exists(docker_client, unique_name)
    row = last_audit("network.create")
    assert row.outcome == Outcome.FAILURE and row.actor_username == "vera-viewer"


def test_viewer_cannot_connect_a_container(viewer_client, network):
    response = viewer_client.post(
        f"/api/v1/networks/{network}/connect/", {"container": "dpt-x"}, format="json"
    )

    assert response.status_code == 403
    row = last_audit("network.connect")
    assert row.outcome == Outcome.FAILURE and row.resource_id == network


def test_viewer_cannot_delete_a_network(viewer_client, docker_client, network):
    response = viewer_client.delete(f"/api/v1/networks/{network}/")

    assert response.status_code == 403
    assert network_exists(docker_client, network)
    assert last_audit("network.delete").outcome == Outcome.FAILURE


def test_anonymous_cannot_list_networks(anon_client):
    assert anon_client.get("/api/v1/networks/").status_code == 401


def test_prune_removes_only_unused_networks_that_match_the_labels(
    operator_client, docker_client, free_subnet, unique_name, make_container
):
    case = {CASE_LABEL: uuid.uuid4().hex[:12]}
    unused, used = f"{unique_name}-unused", f"{unique_name}-used"
    for name in (unused, used):
        ipam = {"Driver": "default", "Config": [{"Subnet": str(free_subnet())}]}
        docker_client.api.create_network(
            name, ipam=ipam, labels={**LABELS, **case}, check_duplicate=True
        )
    container = make_container(f"{unique_name}-web")
    docker_client.api.connect_container_to_network(container, used)

    response = operator_client.post(
        "/api/v1/networks/prune/",
        {"labels": [f"{CASE_LABEL}={case[CASE_LABEL]}"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["deleted"] == [unused]
    assert network_exists(docker_client, used)
    row = last_audit("network.prune")
    assert row.outcome == Outcome.SUCCESS and row.details["deleted"] == [unused]


def test_viewer_cannot_prune_networks(viewer_client):
    response = viewer_client.post("/api/v1/networks/prune/", {}, format="json")

    assert response.status_code == 403
    assert last_audit("network.prune").outcome == Outcome.FAILURE


def test_a_network_path_cannot_walk_to_another_engine_endpoint(viewer_client):
    response = viewer_client.get("/api/v1/networks/../")

    # ".." matches no route, so it never reaches the engine's URL space.
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
