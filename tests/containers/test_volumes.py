"""The volume endpoints against the real engine.

Every volume a test makes carries the suite's label and a dpt- name; prunes
are limited to a label only the test's own volumes carry.
"""

from __future__ import annotations

import uuid

import pytest

from apps.audit.models import AuditLog, Outcome
from tests.conftest import LABELS, TEST_LABEL

pytestmark = pytest.mark.django_db

CASE_LABEL = f"{TEST_LABEL}.case"


@pytest.fixture
def volume(docker_client, unique_name) -> str:
    """A labelled volume made straight on the engine."""
    docker_client.api.create_volume(unique_name, labels=LABELS)
    return unique_name


@pytest.fixture
def mount_volume(docker_client, make_container, unique_name):
    """Make a stopped container that mounts the given volume at /data."""

    def _mount(name: str) -> str:
        container = f"{unique_name}-user"
        host_config = docker_client.api.create_host_config(
            binds={name: {"bind": "/data", "mode": "rw"}}
        )
        make_container(container, start=False, host_config=host_config)
        return container

    return _mount


def last_audit(action: str) -> AuditLog:
    return AuditLog.objects.filter(action=action).order_by("-id").first()


def volume_exists(docker_client, name: str) -> bool:
    listing = docker_client.api.volumes(filters={"name": name})
    return any(v["Name"] == name for v in listing.get("Volumes") or [])


@pytest.mark.parametrize("persona", ["operator_client", "admin_client"])
def test_operators_and_admins_create_a_volume_and_it_is_audited(
    request, persona, docker_client, unique_name
):
    client = request.getfixturevalue(persona)

    response = client.post(
        "/api/v1/volumes/", {"name": unique_name, "labels": LABELS}, format="json"
    )

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["name"] == unique_name and created["driver"] == "local"
    assert created["labels"] == LABELS and created["scope"] == "local"
    assert set(created) == {
        "name",
        "driver",
        "mountpoint",
        "created",
        "labels",
        "scope",
        "options",
    }
    assert volume_exists(docker_client, unique_name)
    row = last_audit("volume.create")
    assert row.outcome == Outcome.SUCCESS and row.resource_type == "volume"
    assert row.resource_id == unique_name


def test_a_volume_without_a_name_gets_one_from_the_engine(operator_client):
    response = operator_client.post(
        "/api/v1/volumes/", {"labels": LABELS}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()["name"]) == 64
    assert last_audit("volume.create").resource_id == response.json()["name"]


def test_viewer_lists_volumes_filtered_by_name_label_and_dangling(
    viewer_client, volume
):
    by_name = viewer_client.get("/api/v1/volumes/", {"name": volume})
    by_label = viewer_client.get(
        "/api/v1/volumes/",
        {"label": f"{TEST_LABEL}={LABELS[TEST_LABEL]}", "dangling": "true"},
    )

    assert by_name.status_code == 200
    [listed] = [v for v in by_name.json()["results"] if v["name"] == volume]
    assert listed["labels"] == LABELS and listed["mountpoint"]
    assert volume in {v["name"] for v in by_label.json()["results"]}


def test_a_volume_in_use_is_not_listed_as_dangling(viewer_client, volume, mount_volume):
    mount_volume(volume)

    response = viewer_client.get(
        "/api/v1/volumes/", {"name": volume, "dangling": "true"}
    )

    assert volume not in {v["name"] for v in response.json()["results"]}


def test_viewer_inspects_a_volume(viewer_client, volume):
    response = viewer_client.get(f"/api/v1/volumes/{volume}/")

    assert response.status_code == 200
    assert response.json()["Name"] == volume


def test_inspecting_a_missing_volume_answers_404(viewer_client, unique_name):
    response = viewer_client.get(f"/api/v1/volumes/{unique_name}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "-leading-dash"}, "name"),
        ({"name": "x"}, "name"),
        ({"name": "has space"}, "name"),
        ({"driver": "bad driver"}, "driver"),
        ({"driver_opts": {"type": 5 * [1]}}, "driver_opts"),
        ({"labels": "not-a-map"}, "labels"),
        ({"drivr": "local"}, "drivr"),
    ],
)
def test_bad_volume_input_is_refused_naming_the_field(operator_client, body, field):
    response = operator_client.post("/api/v1/volumes/", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}")
    assert last_audit("volume.create").outcome == Outcome.FAILURE


@pytest.mark.parametrize(
    "options",
    [
        {"type": "none", "o": "bind", "device": "{path}"},
        {"type": "none", "device": "{path}"},
        {"o": "rbind,ro", "device": "{path}"},
        {"type": "ext4", "device": "/dev/null"},
        # overlay names host directories in its options, not in device
        {"type": "overlay", "device": "overlay", "o": "lowerdir={path}:{path}"},
        {
            "type": "overlay",
            "device": "overlay",
            "o": "lowerdir=/,upperdir={path}/u,workdir={path}/w",
        },
        # The host mounts it from its own network: its own loopback too.
        {"type": "nfs", "o": "addr=127.0.0.1", "device": ":/"},
        {"type": "CIFS", "o": "addr=127.0.0.1", "device": "//127.0.0.1/share"},
    ],
)
def test_operator_cannot_create_a_volume_that_binds_a_host_path(
    operator_client, docker_client, unique_name, tmp_path, options
):
    driver_opts = {k: v.format(path=tmp_path) for k, v in options.items()}

    response = operator_client.post(
        "/api/v1/volumes/",
        {"name": unique_name, "driver_opts": driver_opts, "labels": LABELS},
        format="json",
    )

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "policy_refused"
    assert body["message"].startswith("driver_opts:")
    assert "Only admins" in body["message"]
    assert body["details"]["field"] == "driver_opts"
    assert not volume_exists(docker_client, unique_name)
    row = last_audit("volume.create")
    assert row.outcome == Outcome.FAILURE and row.actor_username == "oscar-operator"


def test_admin_may_create_a_volume_that_binds_a_host_path(
    admin_client, unique_name, tmp_path
):
    driver_opts = {"type": "none", "o": "bind", "device": str(tmp_path)}

    response = admin_client.post(
        "/api/v1/volumes/",
        {"name": unique_name, "driver_opts": driver_opts, "labels": LABELS},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["options"] == driver_opts


def test_operator_may_create_a_tmpfs_volume(operator_client, unique_name):
    driver_opts = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}

    response = operator_client.post(
        "/api/v1/volumes/",
        {"name": unique_name, "driver_opts": driver_opts, "labels": LABELS},
        format="json",
    )

    assert response.status_code == 201, response.json()


def test_secret_mount_options_are_masked_in_the_audit_log(admin_client, unique_name):
    driver_opts = {
        "type": "cifs",
        "device": "//127.0.0.1/share",
        "o": "username=dpt,password=hunter2,vers=3.0",
    }

    admin_client.post(
        "/api/v1/volumes/",
        {"name": unique_name, "driver_opts": driver_opts, "labels": LABELS},
        format="json",
    )

    row = last_audit("volume.create")
    assert "hunter2" not in str(row.details)
    assert row.details["driver_opts"]["o"] == "username=dpt,password=***,vers=3.0"


def test_operator_deletes_a_volume_and_it_is_audited(
    operator_client, docker_client, volume
):
    response = operator_client.delete(f"/api/v1/volumes/{volume}/")

    assert response.status_code == 204
    assert not volume_exists(docker_client, volume)
    row = last_audit("volume.delete")
    assert row.outcome == Outcome.SUCCESS and row.resource_id == volume


def test_deleting_a_volume_in_use_names_the_container(
    operator_client, docker_client, volume, mount_volume
):
    container = mount_volume(volume)

    response = operator_client.delete(f"/api/v1/volumes/{volume}/?force=true")

    assert response.status_code == 409
    body = response.json()
    assert body["message"] == (
        f"volume '{volume}' is used by container "
        f"'{container}': remove the container first."
    )
    assert body["details"]["containers"] == [container]
    assert volume_exists(docker_client, volume)
    row = last_audit("volume.delete")
    assert row.outcome == Outcome.FAILURE and container in row.reason


def test_deleting_a_missing_volume_answers_404(operator_client, unique_name):
    response = operator_client.delete(f"/api/v1/volumes/{unique_name}/")

    assert response.status_code == 404
    assert last_audit("volume.delete").outcome == Outcome.FAILURE


def test_viewer_cannot_delete_a_volume(viewer_client, docker_client, volume):
    response = viewer_client.delete(f"/api/v1/volumes/{volume}/")

    assert response.status_code == 403
    assert volume_exists(docker_client, volume)
    row = last_audit("volume.delete")
    assert row.outcome == Outcome.FAILURE and row.resource_id == volume
    assert row.actor_username == "vera-viewer"


def test_viewer_cannot_create_a_volume(viewer_client, docker_client, unique_name):
    response = viewer_client.post(
        "/api/v1/volumes/", {"name": unique_name}, format="json"
    )

    assert response.status_code == 403
    assert not volume_exists(docker_client, unique_name)
    assert last_audit("volume.create").outcome == Outcome.FAILURE


def test_anonymous_cannot_list_volumes(anon_client):
    assert anon_client.get("/api/v1/volumes/").status_code == 401


def test_prune_removes_only_unused_volumes_that_match_the_labels(
    operator_client, docker_client, unique_name, mount_volume
):
    case = {CASE_LABEL: uuid.uuid4().hex[:12]}
    unused, used = f"{unique_name}-unused", f"{unique_name}-used"
    for name in (unused, used):
        docker_client.api.create_volume(name, labels={**LABELS, **case})
    mount_volume(used)
    labels = [f"{CASE_LABEL}={case[CASE_LABEL]}"]

    response = operator_client.post(
        "/api/v1/volumes/prune/", {"labels": labels}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["deleted"] == [unused]
    assert isinstance(response.json()["space_reclaimed"], int)
    assert volume_exists(docker_client, used)
    row = last_audit("volume.prune")
    assert row.outcome == Outcome.SUCCESS and row.details["deleted"] == [unused]


def test_viewer_cannot_prune_volumes(viewer_client):
    response = viewer_client.post("/api/v1/volumes/prune/", {}, format="json")

    assert response.status_code == 403
    assert last_audit("volume.prune").outcome == Outcome.FAILURE


def test_a_volume_path_cannot_walk_to_another_engine_endpoint(viewer_client):
    response = viewer_client.get("/api/v1/volumes/../")

    # ".." matches no route, so it never reaches the engine's URL space.
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
