"""Fixtures shared by the whole suite: personas, a real engine, a test image.

Everything the suite creates on the engine carries the label
``dockpilot.test=<run id>`` and a ``dpt-`` name, and is removed at the end,
so the suite never touches containers it did not create.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.authcache import forget_users
from apps.accounts.models import Role, User
from apps.containers.engine import forget_engines
from apps.containers.environments import forget_environments
from apps.containers.models import Environment
from tests.relay import SocketRelay

RUN_ID = uuid.uuid4().hex[:8]
TEST_LABEL = "dockpilot.test"
LABELS = {TEST_LABEL: RUN_ID}
IMAGE = f"dockpilot-test/busybox:{RUN_ID}"
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
PASSWORD = "correct-horse-battery-9"


def _engine_or_none() -> docker.DockerClient | None:
    try:
        client = docker.from_env(version="auto", timeout=30)
        client.ping()
        return client
    except docker.errors.DockerException:
        return None


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The real engine. Under CI a missing engine fails instead of skipping."""
    client = _engine_or_none()
    if client is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Docker engine answers: .ci/run must start one")
        pytest.skip("no Docker engine reachable (start dockerd to run this test)")
    yield client
    _remove_labelled(client)
    client.close()


def _remove_labelled(client: docker.DockerClient) -> None:
    selector = {"label": f"{TEST_LABEL}={RUN_ID}"}
    for container in client.api.containers(all=True, filters=selector):
        client.api.remove_container(container["Id"], force=True, v=True)
    for network in client.api.networks(filters=selector):
        client.api.remove_network(network["Id"])
    for volume in client.api.volumes(filters=selector).get("Volumes") or []:
        client.api.remove_volume(volume["Name"], force=True)
    for image in client.api.images(filters=selector):
        client.api.remove_image(image["Id"], force=True)


def _busybox() -> str:
    for path in BUSYBOX_PATHS:
        if Path(path).exists():
            return path
    pytest.fail("busybox-static is not installed (apt-get install busybox-static)")


@pytest.fixture(scope="session")
def test_image(docker_client: docker.DockerClient) -> str:
    """A real image built from scratch around the static busybox binary."""
    context = Path(tempfile.mkdtemp(prefix="dpt-image-"))
    try:
        (context / "rootfs" / "bin").mkdir(parents=True)
        shutil.copy(_busybox(), context / "rootfs" / "bin" / "busybox")
        (context / "Dockerfile").write_text(
            "FROM scratch\nCOPY rootfs/ /\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            'CMD ["/bin/sh"]\n'
        )
        docker_client.images.build(
            path=str(context), tag=IMAGE, labels=LABELS, rm=True, forcerm=True
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return IMAGE


@pytest.fixture
def unique_name() -> str:
    return f"dpt-{RUN_ID}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(autouse=True)
def _fresh_engine_clients() -> Iterator[None]:
    # Each test starts with new SDK clients so that one test's broken
    # connection (engine stopped on purpose) cannot leak into the next.
    yield
    forget_engines()
    forget_environments()
    forget_users()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield


def make_user(username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role)
    if role == Role.ADMIN:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def grant_environment(
    user: User, verbs: tuple[str, ...], environment: Environment | None = None
) -> None:
    """Give ``user`` these permissions on an environment (the default one)."""
    from guardian.shortcuts import assign_perm

    from apps.containers.environments import default_environment

    target = environment or default_environment()
    for verb in verbs:
        assign_perm(f"containers.{verb}_environment", user, target)


def own(
    user: User, kind: str, engine_id: str, environment: Environment | None = None
) -> None:
    """Record ``user`` as the owner of an engine object, as a portal create would."""
    from apps.accounts import access
    from apps.containers.environments import default_environment

    access.record_owner(user, environment or default_environment(), kind, engine_id)


def client_for(user: User) -> APIClient:
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("alice-admin", Role.ADMIN)


@pytest.fixture
def operator_user(db: None) -> User:
    # The operator of this machine's engine: sees it, creates and prunes on
    # it; sees only the containers it owns or was granted.
    user = make_user("oscar-operator", Role.OPERATOR)
    grant_environment(user, ("view", "operate", "change"))
    return user


@pytest.fixture
def viewer_user(db: None) -> User:
    user = make_user("vera-viewer", Role.VIEWER)
    grant_environment(user, ("view",))
    return user


@pytest.fixture
def admin_client(admin_user: User) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def operator_client(operator_user: User) -> APIClient:
    return client_for(operator_user)


@pytest.fixture
def viewer_client(viewer_user: User) -> APIClient:
    return client_for(viewer_user)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_container(docker_client: docker.DockerClient, test_image: str):
    """Create a labelled container straight on the engine (not through the API).

    Made outside the portal, it is visible to admins only, unless ``owner``
    is given (as if that user had created it through the portal).
    """

    def _make(
        name: str,
        command: list[str] | None = None,
        start: bool = True,
        owner: User | None = None,
        **kwargs,
    ):
        container = docker_client.api.create_container(
            test_image,
            command=command or ["sleep", "300"],
            name=name,
            labels=LABELS,
            **kwargs,
        )
        if owner is not None:
            own(owner, "container", container["Id"])
        if start:
            docker_client.api.start(container["Id"])
        return container["Id"]

    return _make


@pytest.fixture
def relay(docker_client: docker.DockerClient) -> Iterator[SocketRelay]:
    """A stoppable stand-in path to the real engine (see tests/relay.py)."""
    with tempfile.TemporaryDirectory(prefix="dpt-relay-") as folder:
        relay = SocketRelay(Path(folder) / "engine.sock")
        relay.start()
        yield relay
        relay.stop()


@pytest.fixture
def relayed_default(relay: SocketRelay) -> Environment:
    Environment.objects.update(is_default=False)
    forget_environments()
    return Environment.objects.create(
        name="relay", endpoint=relay.endpoint, is_default=True
    )
