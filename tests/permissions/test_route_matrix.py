"""Every REST route, for every persona, walked from the URL configuration.

Six personas call each route and method: an admin; the operator who owns
the Docker resources the route acts on; an operator granted everything on
them (and view, operate and change on the environment); a viewer granted a
look; an operator with no grants at all; and an anonymous client. Each row
of ``MATRIX`` gives the status every persona must get. A route that has no
row fails ``test_every_route_has_a_row``: a new endpoint cannot ship
without a decision about who may use it.

Requests that pass the access check are built so that they change nothing
on the engine: an invalid body (400), or an action the object's state
refuses (409: removing a running container, a used volume, a network with
members; starting a running container; pausing a stopped one). So a 400 or
409 here means "access granted", a 403 "seen but refused", a 404 "not seen".
"""

from __future__ import annotations

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from apps.accounts import access
from apps.accounts.models import ApiToken, Role, Team
from apps.accounts.services.grants import describe
from apps.audit.services import record
from apps.compose.models import ComposeProject
from apps.containers.environments import default_environment
from apps.containers.models import ResourceOwnership
from apps.jobs.models import Job
from apps.tunnels.models import TunnelConfig
from tests.conftest import LABELS, RUN_ID, client_for, grant_environment, make_user
from tests.routes import api_routes

pytestmark = pytest.mark.django_db

PERSONAS = ("admin", "owner", "granted_operator", "granted_viewer", "outsider", "anon")
VERBS = ("view", "change", "delete", "operate")

# (value the path parameter gets, body, statuses in the order of PERSONAS)
READ_DOCKER = (200, 200, 200, 200, 404, 401)
CREATE_IN_ENV = (400, 400, 400, 403, 404, 401)  # needs operate on the environment
CHANGE_ENV = (400, 403, 400, 403, 404, 401)  # needs change on the environment
ACT_ON = (400, 400, 400, 403, 404, 401)  # needs the verb on the object
REFUSED_BY_STATE = (409, 409, 409, 403, 404, 401)
ADMIN_ONLY = (200, 403, 403, 403, 403, 401)
ADMIN_ONLY_BAD_BODY = (400, 403, 403, 403, 403, 401)
ANYONE_BAD_BODY = (400, 400, 400, 400, 400, 400)
SIGNED_IN = (200, 200, 200, 200, 200, 401)
SIGNED_IN_BAD_BODY = (400, 400, 400, 400, 400, 401)

MATRIX: dict[tuple[str, str], tuple[str, object, tuple[int, ...]]] = {
    # auth
    ("/api/v1/auth/setup", "post"): ("", {}, ANYONE_BAD_BODY),
    ("/api/v1/auth/login", "post"): ("", {}, ANYONE_BAD_BODY),
    ("/api/v1/auth/refresh", "post"): ("", {}, ANYONE_BAD_BODY),
    ("/api/v1/auth/logout", "post"): ("", {}, SIGNED_IN_BAD_BODY),
    ("/api/v1/auth/me", "get"): ("", None, SIGNED_IN),
    ("/api/v1/auth/password", "post"): ("", {}, SIGNED_IN_BAD_BODY),
    ("/api/v1/auth/tokens/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/auth/tokens/", "post"): ("", {}, SIGNED_IN_BAD_BODY),
    # Only the owner persona holds this token: for everyone else it is not found.
    ("/api/v1/auth/tokens/{}/", "delete"): (
        "token",
        None,
        (404, 204, 404, 404, 404, 401),
    ),
    # audit
    ("/api/v1/audit/", "get"): ("", None, ADMIN_ONLY),
    ("/api/v1/audit/{}", "get"): ("audit", None, ADMIN_ONLY),
    # users, teams, grants, ownership
    ("/api/v1/users/", "get"): ("", None, ADMIN_ONLY),
    ("/api/v1/users/", "post"): ("", {}, ADMIN_ONLY_BAD_BODY),
    ("/api/v1/users/{}/", "get"): ("admin", None, ADMIN_ONLY),
    ("/api/v1/users/{}/", "patch"): ("admin", {"role": "root"}, ADMIN_ONLY_BAD_BODY),
    # The admin deleting their own account: refused, 409.
    ("/api/v1/users/{}/", "delete"): ("admin", None, (409, 403, 403, 403, 403, 401)),
    ("/api/v1/users/{}/reset-password/", "post"): ("admin", {}, ADMIN_ONLY_BAD_BODY),
    ("/api/v1/teams/", "get"): ("", None, ADMIN_ONLY),
    ("/api/v1/teams/", "post"): ("", {}, ADMIN_ONLY_BAD_BODY),
    ("/api/v1/teams/{}/", "get"): ("team", None, ADMIN_ONLY),
    ("/api/v1/teams/{}/", "patch"): (
        "team",
        {"members": ["dpt-nobody"]},
        ADMIN_ONLY_BAD_BODY,
    ),
    ("/api/v1/teams/{}/", "delete"): ("team", None, (204, 403, 403, 403, 403, 401)),
    ("/api/v1/grants/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/grants/", "post"): ("", {}, (400, 400, 400, 403, 400, 401)),
    # The granted viewer's look at the container: revoked by whoever holds
    # "view" on it and may change things; the outsider does not see it.
    # Only admins and the resource's owner take grants back: holding the
    # same permission is not enough (operators could revoke each other).
    ("/api/v1/grants/{}/", "delete"): ("grant", None, (204, 204, 404, 404, 404, 401)),
    ("/api/v1/ownerships/", "get"): ("", None, ADMIN_ONLY),
    ("/api/v1/ownerships/", "post"): ("", {}, ADMIN_ONLY_BAD_BODY),
    ("/api/v1/ownerships/{}/", "delete"): (
        "ownership",
        None,
        (204, 403, 403, 403, 403, 401),
    ),
    # environments: everyone lists what they were granted; admins change
    ("/api/v1/environments/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/environments/", "post"): ("", {}, ADMIN_ONLY_BAD_BODY),
    ("/api/v1/environments/{}/", "get"): ("environment", None, READ_DOCKER),
    ("/api/v1/environments/{}/", "patch"): (
        "environment",
        {"endpoint": "bogus"},
        (400, 403, 403, 403, 404, 401),
    ),
    ("/api/v1/environments/{}/", "put"): (
        "environment",
        {},
        (400, 403, 403, 403, 404, 401),
    ),
    # The default environment cannot be deleted: 409.
    ("/api/v1/environments/{}/", "delete"): (
        "environment",
        None,
        (409, 403, 403, 403, 404, 401),
    ),
    # images: the environment's grants decide
    ("/api/v1/images/", "get"): ("", None, READ_DOCKER),
    ("/api/v1/images", "get"): ("", None, READ_DOCKER),
    ("/api/v1/images/prune/", "post"): ("", {"all": "maybe"}, CHANGE_ENV),
    ("/api/v1/images/prune", "post"): ("", {"all": "maybe"}, CHANGE_ENV),
    ("/api/v1/images/{}/tag/", "post"): ("image", {}, CREATE_IN_ENV),
    ("/api/v1/images/{}/tag", "post"): ("image", {}, CREATE_IN_ENV),
    ("/api/v1/images/{}/history/", "get"): ("image", None, READ_DOCKER),
    ("/api/v1/images/{}/history", "get"): ("image", None, READ_DOCKER),
    ("/api/v1/images/{}/", "get"): ("image", None, READ_DOCKER),
    ("/api/v1/images/{}", "get"): ("image", None, READ_DOCKER),
    # In use by the persona's container: 409 for those who may remove it.
    ("/api/v1/images/{}/", "delete"): ("image", None, (409, 403, 409, 403, 404, 401)),
    ("/api/v1/images/{}", "delete"): ("image", None, (409, 403, 409, 403, 404, 401)),
    # jobs: pull, build, prune
    ("/api/v1/images/pull/", "post"): ("", {}, CREATE_IN_ENV),
    ("/api/v1/images/pull", "post"): ("", {}, CREATE_IN_ENV),
    ("/api/v1/images/build/", "post"): ("", {"tag": "!"}, CREATE_IN_ENV),
    ("/api/v1/images/build", "post"): ("", {"tag": "!"}, CREATE_IN_ENV),
    ("/api/v1/prunes/", "post"): ("", {}, CHANGE_ENV),
    ("/api/v1/prunes", "post"): ("", {}, CHANGE_ENV),
    # containers
    ("/api/v1/containers/", "get"): ("", None, READ_DOCKER),
    ("/api/v1/containers/", "post"): ("", {}, CREATE_IN_ENV),
    ("/api/v1/containers/{}/", "get"): ("running", None, READ_DOCKER),
    ("/api/v1/containers/{}/", "delete"): ("running", None, REFUSED_BY_STATE),
    ("/api/v1/containers/{}/logs/", "get"): ("running", None, READ_DOCKER),
    ("/api/v1/containers/{}/stats/", "get"): ("running", None, READ_DOCKER),
    ("/api/v1/containers/{}/top/", "get"): ("running", None, READ_DOCKER),
    ("/api/v1/containers/{}/start/", "post"): ("running", None, REFUSED_BY_STATE),
    ("/api/v1/containers/{}/stop/", "post"): ("running", {"timeout": -1}, ACT_ON),
    ("/api/v1/containers/{}/restart/", "post"): ("running", {"timeout": -1}, ACT_ON),
    ("/api/v1/containers/{}/kill/", "post"): ("running", {"signal": "!"}, ACT_ON),
    ("/api/v1/containers/{}/rename/", "post"): ("running", {"name": "a b"}, ACT_ON),
    ("/api/v1/containers/{}/pause/", "post"): ("stopped", None, REFUSED_BY_STATE),
    ("/api/v1/containers/{}/unpause/", "post"): ("stopped", None, REFUSED_BY_STATE),
    # volumes
    ("/api/v1/volumes/", "get"): ("", None, READ_DOCKER),
    ("/api/v1/volumes/", "post"): ("", {"name": "!"}, CREATE_IN_ENV),
    ("/api/v1/volumes/prune/", "post"): ("", {"labels": "x"}, CHANGE_ENV),
    ("/api/v1/volumes/{}/", "get"): ("volume", None, READ_DOCKER),
    ("/api/v1/volumes/{}/", "delete"): ("volume", None, REFUSED_BY_STATE),
    # networks
    ("/api/v1/networks/", "get"): ("", None, READ_DOCKER),
    ("/api/v1/networks/", "post"): ("", {}, CREATE_IN_ENV),
    ("/api/v1/networks/prune/", "post"): ("", {"labels": "x"}, CHANGE_ENV),
    ("/api/v1/networks/{}/", "get"): ("network", None, READ_DOCKER),
    ("/api/v1/networks/{}/", "delete"): ("network", None, REFUSED_BY_STATE),
    ("/api/v1/networks/{}/connect/", "post"): ("network", {}, ACT_ON),
    ("/api/v1/networks/{}/disconnect/", "post"): ("network", {}, ACT_ON),
    # compose projects: the owner persona owns one; the granted operator holds
    # every verb on it, the granted viewer "view". Its last job is still
    # queued, so deleting it is refused (409); bodies are invalid (400).
    ("/api/v1/compose/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/compose/", "post"): ("", {}, CREATE_IN_ENV),
    ("/api/v1/compose/{}/", "get"): ("project", None, READ_DOCKER),
    ("/api/v1/compose/{}/", "patch"): ("project", {"compose": ""}, ACT_ON),
    ("/api/v1/compose/{}/", "put"): ("project", {}, ACT_ON),
    ("/api/v1/compose/{}/", "delete"): ("project", None, REFUSED_BY_STATE),
    ("/api/v1/compose/{}/validate/", "post"): ("project", {"compose": ""}, ACT_ON),
    ("/api/v1/compose/{}/up/", "post"): ("project", {"pull": "bogus"}, ACT_ON),
    ("/api/v1/compose/{}/down/", "post"): ("project", {"remove_images": "x"}, ACT_ON),
    ("/api/v1/compose/{}/stop/", "post"): ("project", {"timeout": -1}, ACT_ON),
    ("/api/v1/compose/{}/start/", "post"): ("project", {"services": "x"}, ACT_ON),
    ("/api/v1/compose/{}/restart/", "post"): ("project", {"timeout": -1}, ACT_ON),
    ("/api/v1/compose/{}/pull/", "post"): ("project", {"services": "x"}, ACT_ON),
    ("/api/v1/compose/{}/services/{}/start/", "post"): ("project", {"x": 1}, ACT_ON),
    ("/api/v1/compose/{}/services/{}/stop/", "post"): (
        "project",
        {"timeout": -1},
        ACT_ON,
    ),
    ("/api/v1/compose/{}/services/{}/restart/", "post"): (
        "project",
        {"timeout": -1},
        ACT_ON,
    ),
    ("/api/v1/compose/{}/ps/", "get"): ("project", None, READ_DOCKER),
    ("/api/v1/compose/{}/logs/", "get"): ("project", None, READ_DOCKER),
    ("/api/v1/compose/outside/", "get"): ("", None, READ_DOCKER),
    ("/api/v1/compose/outside/{}/adopt/", "post"): (
        "project",
        {"compose": ""},
        ADMIN_ONLY_BAD_BODY,
    ),
    # jobs and registry credentials: decided by their own apps for now
    ("/api/v1/jobs/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/jobs/{}/", "get"): ("missing", None, (404, 404, 404, 404, 404, 401)),
    ("/api/v1/jobs/{}/cancel/", "post"): (
        "missing",
        None,
        (404, 404, 404, 403, 404, 401),
    ),
    ("/api/v1/jobs/{}/output/", "get"): (
        "missing",
        None,
        (404, 404, 404, 404, 404, 401),
    ),
    ("/api/v1/registries/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/registries/", "post"): ("", {}, (400, 400, 400, 403, 400, 401)),
    ("/api/v1/registries/{}/", "get"): (
        "missing",
        None,
        (404, 404, 404, 404, 404, 401),
    ),
    ("/api/v1/registries/{}/", "patch"): (
        "missing",
        {},
        (404, 404, 404, 403, 404, 401),
    ),
    ("/api/v1/registries/{}/", "put"): (
        "missing",
        {},
        (404, 404, 404, 403, 404, 401),
    ),
    ("/api/v1/registries/{}/", "delete"): (
        "missing",
        None,
        (404, 404, 404, 403, 404, 401),
    ),
    # tunnels: the owner's, granted in full to the granted operator and for
    # a look to the granted viewer. "tunnel" runs (start and delete refused
    # by its state); "stopped_tunnel" is stopped (stop refused).
    ("/api/v1/tunnels/", "get"): ("", None, SIGNED_IN),
    ("/api/v1/tunnels/", "post"): ("", {}, (400, 400, 400, 403, 400, 401)),
    ("/api/v1/tunnels/{}/", "get"): ("tunnel", None, READ_DOCKER),
    ("/api/v1/tunnels/{}/", "patch"): ("tunnel", {"target_port": 0}, ACT_ON),
    ("/api/v1/tunnels/{}/", "put"): ("tunnel", {}, ACT_ON),
    ("/api/v1/tunnels/{}/", "delete"): ("tunnel", None, REFUSED_BY_STATE),
    ("/api/v1/tunnels/{}/start/", "post"): ("tunnel", None, REFUSED_BY_STATE),
    ("/api/v1/tunnels/{}/stop/", "post"): ("stopped_tunnel", None, REFUSED_BY_STATE),
    ("/api/v1/tunnels/{}/status/", "get"): ("tunnel", None, READ_DOCKER),
    ("/api/v1/tunnels/{}/logs/", "get"): ("tunnel", None, READ_DOCKER),
}


def route_keys() -> list[tuple[str, str]]:
    return [
        (route.path("{}"), method) for route in api_routes() for method in route.methods
    ]


def test_every_route_has_a_row():
    missing = sorted(set(route_keys()) - set(MATRIX))
    assert not missing, f"routes without a row in MATRIX: {missing}"


def test_no_row_names_a_route_that_is_gone():
    assert not sorted(set(MATRIX) - set(route_keys()))


@pytest.fixture(scope="module")
def engine_objects(docker_client, test_image):
    """A running container using a volume and a network, and a stopped one."""
    api = docker_client.api
    name = f"dpt-{RUN_ID}-matrix"
    # An image of its own, with one tag: removing a tag that other tests
    # added to the shared test image would only untag it, and succeed.
    image = f"dpt-{RUN_ID}/matrix:1"
    dockerfile = io.BytesIO(f"FROM {test_image}\nLABEL dpt.matrix={RUN_ID}\n".encode())
    docker_client.images.build(fileobj=dockerfile, tag=image, labels=LABELS, rm=True)
    volume = api.create_volume(f"{name}-vol", labels=LABELS)["Name"]
    network = api.create_network(f"{name}-net", labels=LABELS)["Id"]
    running = api.create_container(
        image,
        command=["sleep", "600"],
        name=f"{name}-running",
        labels=LABELS,
        host_config=api.create_host_config(
            binds=[f"{volume}:/data"], network_mode=f"{name}-net"
        ),
    )["Id"]
    api.start(running)
    stopped = api.create_container(
        test_image, command=["true"], name=f"{name}-stopped", labels=LABELS
    )["Id"]
    yield {
        "running": running,
        "stopped": stopped,
        "volume": volume,
        "network": network,
        "image": image,
    }
    api.remove_container(running, force=True, v=True)
    api.remove_container(stopped, force=True)
    api.remove_network(network)
    api.remove_volume(volume, force=True)
    api.remove_image(image, force=True)


def _personas() -> dict[str, object]:
    return {
        "admin": make_user("matrix-admin", Role.ADMIN),
        "owner": make_user("matrix-owner", Role.OPERATOR),
        "granted_operator": make_user("matrix-granted-operator", Role.OPERATOR),
        "granted_viewer": make_user("matrix-granted-viewer", Role.VIEWER),
        "outsider": make_user("matrix-outsider", Role.OPERATOR),
    }


@pytest.fixture
def world(engine_objects):
    """The personas, their ownerships and grants, and the path values."""
    users = _personas()
    environment = default_environment()
    grant_environment(users["owner"], ("view", "operate"))
    grant_environment(users["granted_operator"], ("view", "operate", "change"))
    grant_environment(users["granted_viewer"], ("view",))

    rows = {}
    for key, kind in (
        ("running", "container"),
        ("stopped", "container"),
        ("volume", "volume"),
        ("network", "network"),
    ):
        row = access.record_owner(
            users["owner"], environment, kind, engine_objects[key]
        )
        for verb in VERBS:
            assign_perm(
                f"containers.{verb}_resourceownership", users["granted_operator"], row
            )
        assign_perm("containers.view_resourceownership", users["granted_viewer"], row)
        rows[key] = row

    project = _project(users, environment)
    return users, {**_values(users, engine_objects, environment, rows), **project}


def _project(users, environment) -> dict[str, str]:
    """A compose project of the owner whose service has the project's name.

    The per-service routes take the same value for both path parameters.
    """
    name = f"dpt-{RUN_ID}-matrix"
    project = ComposeProject.objects.create(
        name=name,
        environment=environment,
        compose_yaml=f"services:\n  {name}:\n    image: x\n",
        owner=users["owner"],
        project_directory=f"/nonexistent/{name}",
    )
    project.last_job = Job.objects.create(kind="compose_up", target=name)
    project.save()
    for verb in VERBS:
        assign_perm(
            f"compose.{verb}_composeproject", users["granted_operator"], project
        )
    assign_perm("compose.view_composeproject", users["granted_viewer"], project)
    return {"project": name}


def _values(users, engine_objects, environment, rows) -> dict[str, str]:
    from guardian.models import UserObjectPermission

    token = ApiToken.objects.create(
        owner=users["owner"],
        name="matrix",
        prefix="dpt_00000000",
        secret_hash="0" * 64,
        scopes="read",
        expires_at="2999-01-01T00:00:00Z",
    )
    team = Team.objects.create(name="matrix-team")
    grant = UserObjectPermission.objects.get(
        user=users["granted_viewer"],
        content_type=ContentType.objects.get_for_model(ResourceOwnership),
        object_pk=str(rows["running"].pk),
    )
    assert describe("u", grant) is not None
    audit = record("user.update", actor=users["admin"], resource_type="user")
    tunnels = _tunnels(users, environment, engine_objects["running"])
    return {
        **tunnels,
        **engine_objects,
        "": "",
        "token": str(token.pk),
        "audit": str(audit.pk),
        "admin": str(users["admin"].pk),
        "team": str(team.pk),
        "grant": f"u{grant.pk}",
        "ownership": str(rows["running"].pk),
        "environment": str(environment.pk),
        "missing": "999999",
    }


def _tunnels(users, environment, container: str) -> dict[str, str]:
    values = {}
    for key, status in (("tunnel", "running"), ("stopped_tunnel", "stopped")):
        tunnel = TunnelConfig.objects.create(
            name=f"matrix-{key}".replace("_", "-"),
            owner=users["owner"],
            environment=environment,
            provider="cloudflare_quick",
            container_id=container,
            target_port=80,
            status=status,
            desired_running=status == "running",
        )
        for verb in VERBS:
            assign_perm(
                f"tunnels.{verb}_tunnelconfig", users["granted_operator"], tunnel
            )
        assign_perm("tunnels.view_tunnelconfig", users["granted_viewer"], tunnel)
        values[key] = str(tunnel.pk)
    return values


def _client(users, persona: str) -> APIClient:
    return APIClient() if persona == "anon" else client_for(users[persona])


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("path", "method"), sorted(MATRIX))
def test_route_answers_each_persona_as_the_matrix_says(world, path, method, persona):
    users, values = world
    value_key, body, statuses = MATRIX[(path, method)]
    expected = statuses[PERSONAS.index(persona)]
    client = _client(users, persona)

    url = path.replace("{}", values[value_key])
    if body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, format="json")

    assert response.status_code == expected, (
        persona,
        method,
        url,
        response.content[:300],
    )
