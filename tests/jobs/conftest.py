"""Fixtures of the job tests: registries, Redis, pushed images, real workers.

``worker`` is parametrized over the two broker modes: the embedded one
(kombu's filesystem transport, in-memory channel layer) and Redis as
broker, channel layer and cache. Every test that uses it runs in both.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from apps.jobs.models import Job
from dockpilot.celery import app as celery_app
from dockpilot.routing import websocket_urlpatterns
from tests.conftest import LABELS, RUN_ID

from .services import (
    Registry,
    SlowProxy,
    start_redis,
    start_registry,
    start_worker,
    stop,
    worker_env,
)

REGISTRY_USER = "dpt-user"
REGISTRY_PASSWORD = "dpt-registry-secret-1"
SLOW_LAYER_BYTES = 12_000_000


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory) -> Iterator[Registry]:
    registry = start_registry(tmp_path_factory.mktemp("registry-open"))
    yield registry
    stop(registry.process)


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory) -> Iterator[Registry]:
    registry = start_registry(
        tmp_path_factory.mktemp("registry-auth"), {REGISTRY_USER: REGISTRY_PASSWORD}
    )
    yield registry
    stop(registry.process)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url, process = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    stop(process)


def _build_and_push(
    docker_client,
    folder: Path,
    repository: str,
    content: bytes,
    auth: dict[str, str] | None = None,
) -> str:
    """Build a one-layer image from scratch, push it, and drop it locally."""
    folder.mkdir(parents=True)
    (folder / "blob").write_bytes(content)
    (folder / "Dockerfile").write_text('FROM scratch\nCOPY blob /blob\nCMD ["/blob"]\n')
    docker_client.images.build(
        path=str(folder), tag=f"{repository}:1", labels=LABELS, rm=True, forcerm=True
    )
    for line in docker_client.api.push(
        repository, "1", stream=True, decode=True, auth_config=auth
    ):
        assert "error" not in line, line
    # Gone from the engine, so that pulling it really downloads it.
    docker_client.api.remove_image(f"{repository}:1", force=True)
    return f"{repository}:1"


@dataclass
class Pushed:
    small: str  # in the open registry
    private: str  # in the registry that asks for a login
    slow_repository: str  # path of a large image, pulled through a SlowProxy
    open_port: int


@pytest.fixture(scope="session")
def pushed(docker_client, open_registry, auth_registry, tmp_path_factory) -> Pushed:
    folder = tmp_path_factory.mktemp("pushed")
    name = f"dpt-{RUN_ID}"
    small = _build_and_push(
        docker_client,
        folder / "small",
        f"{open_registry.host}/{name}/small",
        uuid.uuid4().bytes * 1000,
    )
    private = _build_and_push(
        docker_client,
        folder / "private",
        f"{auth_registry.host}/{name}/private",
        uuid.uuid4().bytes * 1000,
        auth={"username": REGISTRY_USER, "password": REGISTRY_PASSWORD},
    )
    # Random bytes do not compress: the layer stays this large on the wire.
    _build_and_push(
        docker_client,
        folder / "slow",
        f"{open_registry.host}/{name}/slow",
        os.urandom(SLOW_LAYER_BYTES),
    )
    return Pushed(small, private, f"{name}/slow:1", open_registry.port)


@pytest.fixture
def slow_image(pushed, docker_client) -> Iterator[tuple[str, SlowProxy]]:
    """The large image, reached through a throttled proxy on its own port."""
    proxy = SlowProxy(target=pushed.open_port)
    proxy.start()
    reference = f"127.0.0.1:{proxy.port}/{pushed.slow_repository}"
    yield reference, proxy
    proxy.stop()
    with contextlib.suppress(Exception):
        docker_client.api.remove_image(reference, force=True)


@dataclass
class Worker:
    mode: str
    env: dict[str, str]
    log: Path
    process: Any

    def restart(self, *, beat: bool = False) -> None:
        self.process = start_worker(self.env, self.log, f"dpt-{self.mode}", beat=beat)


def _point_celery_at(
    broker_url: str, options: dict[str, Any], transport: str | None
) -> None:
    # The web side of the test (this process) must send to the same broker
    # as the worker; connection pools built for the old one are dropped.
    celery_app.conf.broker_url = broker_url
    celery_app.conf.broker_transport = transport
    celery_app.conf.broker_transport_options = options
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="module", params=["filesystem", "redis"])
def worker(request, django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    mode = request.param
    env = worker_env(
        DOCKPILOT_JOB_HEARTBEAT_SECONDS="1",
        DOCKPILOT_JOB_LOST_AFTER_SECONDS="4",
        DOCKPILOT_JOB_REAP_INTERVAL_SECONDS="1",
    )
    overrides: dict[str, Any] = {}
    if mode == "redis":
        url = request.getfixturevalue("redis_url")
        env["DOCKPILOT_REDIS_URL"] = url
        overrides["CHANNEL_LAYERS"] = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": "dockpilot"},
            }
        }
        _point_celery_at(url, {}, None)
    log = tmp_path_factory.mktemp(f"worker-{mode}") / "worker.log"
    handle = Worker(mode, env, log, start_worker(env, log, f"dpt-{mode}"))
    with override_settings(**overrides):
        yield handle
    stop(handle.process)
    _point_celery_at(
        settings.CELERY_BROKER_URL,
        settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        settings.CELERY_BROKER_TRANSPORT,
    )


def wait_for(job_id: Any, done, seconds: float = 60) -> Job:
    """Poll the job row (bounded) until ``done(job)`` holds."""
    deadline = time.monotonic() + seconds
    while True:
        job = Job.objects.get(pk=job_id)
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status}: {job.error}")
        time.sleep(0.1)


def wait_finished(job_id: Any, seconds: float = 60) -> Job:
    return wait_for(job_id, lambda job: job.finished, seconds)


def websocket_messages(
    user, job_id: Any, after: int = 0, seconds: float = 60
) -> list[dict[str, Any]]:
    """Everything /ws/jobs/<id>/ sends until it closes, after a JWT first message."""

    token = str(RefreshToken.for_user(user).access_token)

    async def follow() -> list[dict[str, Any]]:
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/jobs/{job_id}/?after={after}"
        )
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "auth", "token": token})
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                output = await communicator.receive_output(timeout=seconds)
                if output["type"] == "websocket.close":
                    break
                messages.append(json.loads(output["text"]))
        finally:
            await communicator.disconnect()
        return messages

    return async_to_sync(follow)()
