"""What a non-admin's compose file may reach beyond its project.

An existing volume or network that the project did not create is used
only as the containers API would let the user use it; build and runtime
options that step out of the sandbox are refused; wrongly shaped YAML is a
400 that says what shape is expected, and names are read as Compose reads
them. All are decided when the file arrives, before anything is deployed.
"""

from __future__ import annotations

import pytest

from tests.conftest import LABELS, own

from .test_policy import IMAGE, app, post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]


def external_volume(name: str, *, external: bool = True) -> str:
    flag = "    external: true\n" if external else ""
    return app(
        "volumes: ['shared:/v']", top=f"volumes:\n  shared:\n{flag}    name: {name}\n"
    )


def external_network(name: str) -> str:
    return app(
        "networks: [victim]",
        top=f"networks:\n  victim:\n    external: true\n    name: {name}\n",
    )


def assert_refused(response, service: str, key: str) -> None:
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["code"] == "policy_refused"
    assert body["details"]["service"] == service
    assert body["details"]["key"] == key
    assert f"service '{service}', {key}:" in body["message"]


@pytest.fixture
def admins_volume(docker_client, admin_user, project_name) -> str:
    name = f"{project_name('avol')}-data"
    docker_client.volumes.create(name, labels=LABELS)
    own(admin_user, "volume", name)
    return name


@pytest.fixture
def admins_network(docker_client, admin_user, project_name) -> str:
    name = f"{project_name('anet')}-net"
    network = docker_client.networks.create(name, labels=LABELS)
    own(admin_user, "network", network.id)
    return name


@pytest.mark.parametrize("external", [True, False], ids=["external", "by-name"])
def test_a_non_admin_cannot_mount_another_users_volume(
    operator_client, project_name, admins_volume, external
):
    compose = external_volume(admins_volume, external=external)

    response = post(operator_client, project_name("foreignvol"), compose)

    assert_refused(response, "app", "volumes.shared")
    assert response.json()["details"]["value"] == admins_volume


def test_a_non_admin_may_mount_their_own_existing_volume(
    operator_client, operator_user, docker_client, project_name
):
    volume = f"{project_name('ovol')}-data"
    docker_client.volumes.create(volume, labels=LABELS)
    own(operator_user, "volume", volume)

    response = post(operator_client, project_name("ownvol"), external_volume(volume))

    assert response.status_code == 201, response.json()


def test_an_admin_may_mount_any_existing_volume(
    admin_client, project_name, admins_volume
):
    compose = external_volume(admins_volume)
    assert post(admin_client, project_name("adminvol"), compose).status_code == 201


def test_a_non_admin_cannot_join_another_users_network(
    operator_client, project_name, admins_network
):
    response = post(
        operator_client, project_name("foreignnet"), external_network(admins_network)
    )

    assert_refused(response, "app", "networks.victim")


def test_a_non_admin_cannot_use_another_users_network_as_network_mode(
    operator_client, project_name, admins_network
):
    compose = app(f"network_mode: {admins_network}")

    response = post(operator_client, project_name("netmode"), compose)

    assert_refused(response, "app", "network_mode")


def test_a_non_admin_may_join_their_own_network(
    operator_client, operator_user, docker_client, project_name
):
    name = f"{project_name('onet')}-net"
    network = docker_client.networks.create(name, labels=LABELS)
    own(operator_user, "network", network.id)

    response = post(operator_client, project_name("ownnet"), external_network(name))

    assert response.status_code == 201, response.json()


def build(*lines: str) -> str:
    return app("build:", "  context: .", *(f"  {line}" for line in lines))


ESCAPES = [
    ("build-network-host", build("network: host"), "build.network"),
    ("build-network-other", build("network: someones-net"), "build.network"),
    ("build-privileged", build("privileged: true"), "build.privileged"),
    (
        "build-entitlements",
        build("entitlements: [security.insecure]"),
        "build.entitlements",
    ),
    ("build-ssh", build("ssh: [default]"), "build.ssh"),
    (
        "build-contexts",
        build("additional_contexts:", "  host: /etc"),
        "build.additional_contexts",
    ),
    ("gpus", app("gpus: all"), "gpus"),
    ("runtime", app("runtime: runc"), "runtime"),
    ("cgroup-parent", app("cgroup_parent: /"), "cgroup_parent"),
    (
        "hook-privileged",
        app("post_start:", "  - command: id", "    privileged: true"),
        "post_start.privileged",
    ),
]


@pytest.mark.parametrize(
    ("word", "compose", "key"), ESCAPES, ids=[row[0] for row in ESCAPES]
)
def test_a_non_admin_is_refused_build_and_runtime_escapes(
    operator_client, project_name, word, compose, key
):
    response = post(operator_client, project_name(word), compose)

    assert_refused(response, "app", key)


def test_a_build_on_the_default_network_is_fine(operator_client, project_name):
    response = post(operator_client, project_name("buildok"), build("network: none"))
    assert response.status_code == 201, response.json()


def test_a_build_secret_outside_the_project_is_refused(operator_client, project_name):
    compose = build("secrets: [key]") + "secrets:\n  key:\n    file: /etc/shadow\n"

    response = post(operator_client, project_name("buildsecret"), compose)

    assert response.status_code == 403, response.json()
    assert response.json()["details"]["key"] == "secrets.key.file"


MISSHAPEN = [
    ("services: [1, 2]\n", "services"),
    ("services:\n  app: 5\n", "services.app"),
    ("services: web\n", "services"),
    (f"include: 5\nservices:\n  app: {{image: {IMAGE}}}\n", "include"),
    (f"include: [5]\nservices:\n  app: {{image: {IMAGE}}}\n", "include"),
    (f"secrets: [1]\nservices:\n  app: {{image: {IMAGE}}}\n", "secrets"),
    (f"configs: x\nservices:\n  app: {{image: {IMAGE}}}\n", "configs"),
    (f"volumes: [a]\nservices:\n  app: {{image: {IMAGE}}}\n", "volumes"),
    (f"networks: 3\nservices:\n  app: {{image: {IMAGE}}}\n", "networks"),
    (app("env_file: 5"), None),
    (app("build: 7"), None),
    (app("extends: {service: 5}"), None),
    (app("env_file: [{path: 5}]"), None),
    (app("volumes: {a: b}"), None),
    (app("build: {context: [1]}"), None),
    ("services:\n  1: {image: x}\n", "services"),
    ("services:\n  true: {image: x}\n", "services"),
]


@pytest.mark.parametrize(
    ("compose", "path"), MISSHAPEN, ids=[str(i) for i in range(len(MISSHAPEN))]
)
def test_a_wrongly_shaped_file_is_a_400_on_create_and_validate(
    operator_client, project_name, compose, path
):
    name = project_name("shape")
    created = post(operator_client, name, compose)

    assert created.status_code == 400, created.content[:300]
    assert created.json()["code"] == "invalid_compose"
    if path:
        assert created.json()["details"]["path"] == path
        assert "must be" in created.json()["message"]

    assert post(operator_client, name, app()).status_code == 201
    validated = operator_client.post(
        f"/api/v1/compose/{name}/validate/", {"compose": compose}, format="json"
    )
    assert validated.status_code == 400, validated.content[:300]
    changed = operator_client.patch(
        f"/api/v1/compose/{name}/", {"compose": compose}, format="json"
    )
    assert changed.status_code == 400, changed.content[:300]


def test_the_new_project_page_shows_a_wrong_shape_as_an_error(
    operator_user, project_name
):
    from django.test import Client

    client = Client()
    client.force_login(operator_user)
    response = client.post(
        "/compose/new/",
        {"name": project_name("page"), "compose": "services: [1, 2]\n", "env": ""},
    )

    assert response.status_code in (200, 400)
    assert "must be a mapping" in response.content.decode()


@pytest.mark.parametrize(
    "line",
    [
        "export\tCOMPOSE_PROFILES=x",
        "export   DOCKER_HOST=tcp://127.0.0.1:1",
        "  export COMPOSE_FILE=/etc/x.yaml",
        "COMPOSE_PROJECT_NAME: other",
        "DOCKER_CONFIG =/tmp",
        "'COMPOSE_FILE'=/etc/x.yaml",
    ],
)
def test_cli_settings_in_env_are_refused_however_spaced(
    operator_client, project_name, line
):
    response = post(operator_client, project_name("envspace"), app(), f"{line}\n")

    assert response.status_code == 403, response.json()
    assert response.json()["details"]["key"] == ".env"


def test_a_service_named_on_keeps_the_name_compose_gives_it(
    operator_client, project_name
):
    name = project_name("on")
    compose = f"services:\n  on:\n    image: {IMAGE}\n  yes:\n    image: {IMAGE}\n"

    assert post(operator_client, name, compose).status_code == 201
    validated = operator_client.post(
        f"/api/v1/compose/{name}/validate/", {}, format="json"
    )

    assert validated.status_code == 200, validated.json()
    assert validated.json()["services"] == ["on", "yes"]


def test_a_refusal_names_a_service_called_on_as_compose_does(
    operator_client, project_name
):
    compose = f"services:\n  on:\n    image: {IMAGE}\n    runtime: runc\n"

    response = post(operator_client, project_name("onrefused"), compose)

    assert_refused(response, "on", "runtime")


def test_service_names_are_read_as_yaml_1_2_strings():
    from apps.compose.validation import parse

    parsed = parse("services:\n  on: {image: x}\n  off: {image: x}\n")

    assert set(parsed.data["services"]) == {"on", "off"}
