"""The container security policy, item by item, against the real engine.

Each refused item is asked for by an operator (who may create containers
on the environment) and must answer 403 naming the setting, leave no
container behind on the engine and write a failure audit row. Creating is
the one path that sets these today; exec is checked by ``check_exec``,
which the exec stream calls.
"""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog, Outcome
from apps.containers import policy
from apps.containers.environments import default_environment
from tests.conftest import LABELS, own

pytestmark = pytest.mark.django_db
URL = "/api/v1/containers/"


@pytest.fixture
def other_container(make_container, unique_name, operator_user):
    return make_container(f"{unique_name}-other", owner=operator_user)


REFUSED = [
    ({"privileged": True}, "privileged", "privileged"),
    ({"binds": ["/etc:/host"]}, "binds", "bind:/etc"),
    ({"volumes": [{"source": "/etc", "target": "/host"}]}, "volumes", "bind:/etc"),
    (
        {"mounts": [{"type": "bind", "source": "/etc", "target": "/host"}]},
        "mounts",
        "bind:/etc",
    ),
    (
        {"binds": ["/var/run/docker.sock:/var/run/docker.sock"]},
        "binds",
        "docker_socket",
    ),
    ({"binds": ["/run:/hostrun:ro"]}, "binds", "docker_socket"),
    ({"volumes": [{"source": "/", "target": "/host"}]}, "volumes", "docker_socket"),
    ({"network": "host"}, "network", "network_mode:host"),
    ({"pid_mode": "host"}, "pid_mode", "pid_mode:host"),
    ({"ipc_mode": "host"}, "ipc_mode", "ipc_mode:host"),
    ({"uts_mode": "host"}, "uts_mode", "uts_mode:host"),
    ({"userns_mode": "host"}, "userns_mode", "userns_mode:host"),
    ({"cap_add": ["SYS_ADMIN"]}, "cap_add", "cap_add:SYS_ADMIN"),
    ({"cap_add": ["cap_net_admin"]}, "cap_add", "cap_add:NET_ADMIN"),
    ({"devices": ["/dev/fuse"]}, "devices", "device:/dev/fuse"),
    (
        {"security_opt": ["seccomp=unconfined"]},
        "security_opt",
        "security_opt:seccomp=unconfined",
    ),
    (
        {"sysctls": {"net.ipv4.ip_forward": "1"}},
        "sysctls",
        "sysctl:net.ipv4.ip_forward",
    ),
    # Compose's labels would put the container into someone's Compose
    # project, whose owner would take it for one of their services.
    (
        {"labels": {**LABELS, "com.docker.compose.project": "someone-elses"}},
        "labels",
        "compose_labels",
    ),
]


def spec(image: str, name: str, **changes) -> dict:
    return {
        "image": image,
        "name": name,
        "labels": LABELS,
        "command": ["sleep", "30"],
        **changes,
    }


def exists(docker_client, name: str) -> bool:
    # The engine's name filter matches substrings: compare whole names.
    found = docker_client.api.containers(all=True, filters={"name": name})
    return any(f"/{name}" in container["Names"] for container in found)


def assert_refused(response, docker_client, name: str, field: str, allow: str):
    body = response.json()
    assert response.status_code == 403, body
    assert body["code"] == "policy_refused"
    assert body["message"].startswith(f"{field}: "), body["message"]
    assert "Only admins" in body["message"]
    assert body["details"]["allow"] == allow
    assert not exists(docker_client, name)
    row = AuditLog.objects.filter(action="container.create").latest("id")
    assert row.outcome == Outcome.FAILURE


@pytest.mark.parametrize(("changes", "field", "allow"), REFUSED)
def test_an_operator_cannot_create_a_container_that_escapes(
    operator_client, docker_client, test_image, unique_name, changes, field, allow
):
    response = operator_client.post(
        URL, spec(test_image, unique_name, **changes), format="json"
    )

    assert_refused(response, docker_client, unique_name, field, allow)


@pytest.mark.parametrize("setting", ["network", "pid_mode", "ipc_mode"])
def test_an_operator_cannot_join_another_containers_namespace(
    operator_client, docker_client, test_image, unique_name, other_container, setting
):
    changes = {setting: f"container:{other_container}"}
    mode = "network_mode" if setting == "network" else setting

    response = operator_client.post(
        URL, spec(test_image, unique_name, **changes), format="json"
    )

    assert_refused(response, docker_client, unique_name, setting, f"{mode}:container")


@pytest.mark.parametrize(
    "options",
    [
        {"type": "none", "o": "bind", "device": "/etc"},
        {"type": "none", "o": "rbind,ro", "device": "/var/run"},
    ],
)
def test_an_operator_cannot_mount_a_local_volume_that_binds_a_host_path(
    operator_client, operator_user, docker_client, test_image, unique_name, options
):
    # Made by an admin (straight on the engine), then given to the operator.
    volume = f"{unique_name}-hostvol"
    docker_client.api.create_volume(volume, driver_opts=options, labels=LABELS)
    own(operator_user, "volume", volume)
    changes = {"volumes": [{"source": volume, "target": "/data"}]}

    response = operator_client.post(
        URL, spec(test_image, unique_name, **changes), format="json"
    )

    assert response.status_code == 403, response.json()
    assert response.json()["message"].startswith(f"volume '{volume}': ")
    assert not exists(docker_client, unique_name)


def test_an_operator_cannot_mount_a_volume_they_cannot_see(
    operator_client, docker_client, test_image, unique_name
):
    volume = f"{unique_name}-theirs"
    docker_client.api.create_volume(volume, labels=LABELS)
    changes = {"volumes": [{"source": volume, "target": "/data"}]}

    response = operator_client.post(
        URL, spec(test_image, unique_name, **changes), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "volume_not_found"
    assert not exists(docker_client, unique_name)


def test_an_admin_may_add_a_capability(
    admin_client, docker_client, test_image, unique_name
):
    response = admin_client.post(
        URL, spec(test_image, unique_name, cap_add=["NET_ADMIN"]), format="json"
    )

    assert response.status_code == 201, response.json()
    inspected = docker_client.api.inspect_container(response.json()["id"])
    assert inspected["HostConfig"]["CapAdd"] == ["NET_ADMIN"]


def test_an_item_an_admin_allowed_on_the_environment_passes(
    operator_client, docker_client, test_image, unique_name
):
    environment = default_environment()
    environment.policy_allow = ["cap_add:NET_ADMIN"]
    environment.save()

    allowed = operator_client.post(
        URL, spec(test_image, unique_name, cap_add=["NET_ADMIN"]), format="json"
    )
    other = operator_client.post(
        URL, spec(test_image, f"{unique_name}-b", cap_add=["SYS_ADMIN"]), format="json"
    )

    assert allowed.status_code == 201, allowed.json()
    assert other.status_code == 403


def test_allowing_a_host_path_never_allows_the_docker_socket():
    allow = policy.Allowances(["bind:/"])
    spec_ = {"binds": ["/var/run/docker.sock:/sock"], "volumes": []}

    refusals = list(policy.container_refusals(spec_, allow))

    assert [r.allow_item for r in refusals] == ["docker_socket"]
    assert not list(policy.container_refusals({"binds": ["/srv/x:/x"]}, allow))


def test_the_environment_api_refuses_unknown_policy_items(admin_client):
    environment = default_environment()

    response = admin_client.patch(
        f"/api/v1/environments/{environment.pk}/",
        {"policy_allow": ["everything"]},
        format="json",
    )

    assert response.status_code == 400
    assert "everything" in response.json()["message"]


@pytest.mark.parametrize(
    ("privileged", "exec_user", "allow", "refused"),
    [
        (True, None, [], "exec_privileged"),
        (False, "root", [], "exec_user"),
        (False, "app", [], None),
        (True, None, ["exec_privileged"], None),
        (False, "root", ["exec_user"], None),
    ],
)
def test_exec_is_held_to_the_policy(
    operator_user, privileged, exec_user, allow, refused
):
    environment = default_environment()
    environment.policy_allow = allow

    def run() -> None:
        policy.check_exec(
            operator_user,
            environment,
            privileged=privileged,
            exec_user=exec_user,
            container_user="app",
        )

    if refused is None:
        run()
    else:
        with pytest.raises(policy.PolicyRefused) as caught:
            run()
        assert caught.value.details["allow"] == refused


def test_an_operator_cannot_run_an_image_that_carries_composes_labels(
    operator_client, docker_client, tmp_path, unique_name
):
    # Labels baked into an image reach every container made from it.
    (tmp_path / "Dockerfile").write_text(
        'FROM scratch\nLABEL com.docker.compose.project=someone-elses\nCMD ["/none"]\n'
    )
    image = f"{unique_name}/labelled:1"
    docker_client.images.build(path=str(tmp_path), tag=image, labels=LABELS, rm=True)

    response = operator_client.post(
        URL, spec(image, unique_name, command=["/none"]), format="json"
    )

    assert_refused(response, docker_client, unique_name, "image", "compose_labels")
    assert "com.docker.compose.project" in response.json()["message"]
