"""The container security policy applied to compose files of non-admins.

The refusal names the service and the key. The policy reads the model that
``docker compose config`` normalised, so interpolation cannot hide a
setting; files Compose would read are checked in the text first.
"""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog, Outcome
from apps.containers.environments import default_environment, forget_environments

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

IMAGE = "dockpilot-test/none:1"


def app(*lines: str, top: str = "") -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f"services:\n  app:\n    image: {IMAGE}\n{body}{top}"


def post(client, name: str, compose: str, env: str = ""):
    return client.post(
        "/api/v1/compose/",
        {"name": name, "compose": compose, "env": env},
        format="json",
    )


REFUSED = [
    ("relative-bind", app("volumes: ['./data:/data']"), "", "volumes"),
    ("absolute-bind", app("volumes: ['/etc:/host-etc:ro']"), "", "volumes"),
    (
        "long-bind",
        app("volumes:", "  - {type: bind, source: /srv, target: /srv}"),
        "",
        "volumes",
    ),
    (
        "socket",
        app("volumes: ['/var/run/docker.sock:/var/run/docker.sock']"),
        "",
        "volumes",
    ),
    ("interpolated-bind", app("volumes: ['${SRC}:/x']"), "SRC=/etc\n", "volumes"),
    ("privileged", app("privileged: ${PRIV:-true}"), "", "privileged"),
    ("cap-add", app("cap_add: [NET_ADMIN]"), "", "cap_add"),
    ("devices", app("devices: ['/dev/fuse:/dev/fuse']"), "", "devices"),
    ("network-host", app("network_mode: host"), "", "network_mode"),
    ("pid-host", app("pid: host"), "", "pid"),
    ("ipc-host", app("ipc: host"), "", "ipc"),
    ("env-file-outside", app("env_file: /etc/hostname"), "", "env_file"),
    ("env-file-climbs", app("env_file: ../other/.env"), "", "env_file"),
    ("env-file-interpolated", app("env_file: ${F:-/etc/hostname}"), "", "env_file"),
    (
        "secret-outside",
        app("secrets: [pw]", top="secrets:\n  pw:\n    file: /etc/shadow\n"),
        "",
        "secrets.pw.file",
    ),
    (
        "config-outside",
        app("configs: [c]", top="configs:\n  c:\n    file: ../../c.txt\n"),
        "",
        "configs.c.file",
    ),
    (
        "volume-bound-to-host",
        app(
            "volumes: ['data:/data']",
            top="volumes:\n  data:\n    driver_opts: {type: none, o: bind, "
            "device: /etc}\n",
        ),
        "",
        "volumes",
    ),
    ("build-outside", app("build: {context: /}"), "", "build.context"),
    ("cgroup-host", app("cgroup: host"), "", "cgroup"),
    (
        "gpu",
        app(
            "deploy:",
            "  resources:",
            "    reservations:",
            "      devices: [{capabilities: [gpu]}]",
        ),
        "",
        "deploy.resources.reservations.devices",
    ),
    # The .env written as YAML, then read as a compose file, would bring in
    # an env_file of any host file that the text pass never saw.
    (
        "extends-the-env-file",
        app("extends: {file: .env, service: z}"),
        "services: {z: {image: x, env_file: /etc/os-release}}\n",
        "extends.file",
    ),
    ("include-the-env-file", app(top="include: [.env]\n"), "", "include"),
    (
        "include-with-env-file",
        app(top="include: [{path: compose.yaml, env_file: /etc/os-release}]\n"),
        "",
        "include",
    ),
    (
        "extends-itself-by-name",
        app("extends: {file: compose.yaml, service: z}"),
        "",
        "extends.file",
    ),
    (
        "volume-of-the-hosts-nfs",
        app(
            "volumes: ['data:/data']",
            top="volumes:\n  data:\n    driver_opts: {type: nfs, o: 'addr=127.0.0.1', "
            "device: ':/'}\n",
        ),
        "",
        "volumes",
    ),
    (
        "volumes-from-container",
        app("volumes_from: ['container:someone-else']"),
        "",
        "volumes_from",
    ),
]


@pytest.mark.parametrize(
    ("word", "compose", "env", "key"), REFUSED, ids=[row[0] for row in REFUSED]
)
def test_a_non_admin_is_refused_what_escapes_the_container(
    operator_client, project_name, word, compose, env, key
):
    response = post(operator_client, project_name(word), compose, env)

    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["code"] == "policy_refused"
    assert body["details"]["key"] == key
    if not key.startswith(("secrets", "configs", "include")):
        assert body["details"]["service"] == "app"
        assert body["message"].startswith(f"service 'app', {key}:")


def test_a_refused_host_mount_is_audited_and_saves_nothing(
    operator_client, project_name
):
    name = project_name("audited")
    response = post(operator_client, name, app("volumes: ['./data:/data']"))

    assert response.status_code == 403
    row = AuditLog.objects.filter(action="compose.create").latest("id")
    assert row.outcome == Outcome.FAILURE and row.resource_name == name
    assert operator_client.get(f"/api/v1/compose/{name}/").status_code == 404


def test_env_settings_of_the_cli_are_refused_for_a_non_admin(
    operator_client, project_name
):
    response = post(
        operator_client, project_name("envfile"), app(), "COMPOSE_FILE=/etc/x.yaml\n"
    )
    assert response.status_code == 403
    assert response.json()["details"]["key"] == ".env"


def test_an_edit_that_adds_a_host_mount_is_refused(operator_client, project_name):
    name = project_name("edit")
    assert post(operator_client, name, app()).status_code == 201

    response = operator_client.patch(
        f"/api/v1/compose/{name}/",
        {"compose": app("volumes: ['${SRC:-/}:/host']")},
        format="json",
    )
    assert response.status_code == 403
    assert operator_client.get(f"/api/v1/compose/{name}/").json()["compose"] == app()


def test_an_admin_may_mount_host_paths(admin_client, project_name):
    compose = app("volumes: ['./data:/data', '/etc:/host-etc:ro']", "privileged: true")
    assert post(admin_client, project_name("admin"), compose).status_code == 201


def test_a_path_an_admin_allowed_is_accepted_for_a_non_admin(
    operator_client, project_name
):
    environment = default_environment()
    environment.policy_allow = ["bind:/srv/shared"]
    environment.save()
    forget_environments()

    allowed = app("volumes: ['/srv/shared/app:/data']")
    assert post(operator_client, project_name("allowed"), allowed).status_code == 201
    other = app("volumes: ['/srv/other:/data']")
    assert post(operator_client, project_name("other"), other).status_code == 403


def test_a_service_may_extend_another_of_its_own_compose_file(
    operator_client, project_name
):
    compose = (
        f"services:\n  base: {{image: {IMAGE}, command: [sleep, '1']}}\n"
        "  app: {extends: {service: base}}\n"
    )
    response = post(operator_client, project_name("extends"), compose)

    assert response.status_code == 201, response.json()


def test_named_volumes_and_files_inside_the_project_are_fine(
    operator_client, project_name
):
    compose = app(
        "volumes: ['data:/data']",
        "env_file: [app.env]",
        top="volumes:\n  data: {}\n",
    )
    response = post(operator_client, project_name("fine"), compose)
    # The env file does not exist yet: Compose itself says so (400), the
    # policy let it through.
    assert response.status_code == 400, response.json()
    assert "app.env" in response.json()["message"]


def test_an_existing_volume_bound_to_a_host_path_is_refused(
    operator_client, project_name, docker_client
):
    from tests.conftest import LABELS

    volume = docker_client.api.create_volume(
        f"{project_name('vol')}-hostbound",
        driver_opts={"type": "none", "o": "bind", "device": "/tmp"},
        labels=LABELS,
    )["Name"]
    compose = app(
        "volumes: ['shared:/data']",
        top=f"volumes:\n  shared:\n    external: true\n    name: {volume}\n",
    )
    response = post(operator_client, project_name("external"), compose)
    assert response.status_code == 403, response.json()
    assert response.json()["details"]["key"] == "volumes"
    assert "/tmp" in response.json()["details"]["value"]
