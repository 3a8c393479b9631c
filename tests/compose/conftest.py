"""Fixtures of the Compose tests: a real worker, projects named for this run.

The worker runs with the embedded broker only: both broker modes are
proven by tests/jobs; here the CLI and the engine are what is tested.
Every project is named ``dpt-<run id>-...``, its containers carry the
suite's label, and each is brought down with the real CLI at the end.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import RUN_ID, TEST_LABEL
from tests.jobs.conftest import wait_finished
from tests.jobs.services import start_worker, stop, worker_env

__all__ = ["wait_finished"]


@pytest.fixture(scope="module")
def compose_worker(django_db_setup, tmp_path_factory) -> Iterator[subprocess.Popen]:
    if shutil.which("docker") is None:
        pytest.fail("the docker CLI is not installed")
    env = worker_env()
    log = tmp_path_factory.mktemp("compose-worker") / "worker.log"
    process = start_worker(env, log, "dpt-compose")
    yield process
    stop(process)


def compose_text(image: str, *, extra: str = "") -> str:
    """Two long-running services, a one-shot one and one behind a profile."""
    label = f"      {TEST_LABEL}: {RUN_ID}\n"
    # busybox sh as PID 1 ignores SIGTERM unless it traps it.
    serve = "trap 'exit 0' TERM; echo {0} says $$GREETING; sleep 300 & wait"
    return (
        "services:\n"
        "  web:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        f'    command: ["sh", "-c", "{serve.format("web")}"]\n'
        "    environment:\n"
        "      GREETING: ${GREETING:-hello}\n"
        '      DB_PASSWORD: "s3cr$$t-${SUFFIX}"\n'
        "    labels:\n"
        f"{label}"
        "  worker:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        f'    command: ["sh", "-c", "{serve.format("worker")}"]\n'
        "    environment:\n"
        "      GREETING: ${NOT_IN_ENV_FILE:-hello}\n"
        "    labels:\n"
        f"{label}"
        "  migrate:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        '    command: ["sh", "-c", "echo migrations applied"]\n'
        "    labels:\n"
        f"{label}"
        "  debug:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        "    profiles: [debug]\n"
        f'    command: ["sh", "-c", "{serve.format("debug")}"]\n'
        "    labels:\n"
        f"{label}"
        f"{extra}"
    )


def compose_down(name: str, directory: str | None = None) -> None:
    """Bring a project down with the real CLI, whatever the portal thinks."""
    folder = Path(settings.DATA_DIR) / "projects" / name
    command = ["docker", "compose", "--project-name", name]
    if directory:
        command += ["--project-directory", directory]
    if (folder / "compose.yaml").exists():
        command += ["--file", str(folder / "compose.yaml")]
    subprocess.run(
        [*command, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=folder if folder.exists() else None,
    )


@pytest.fixture
def project_name() -> Iterator[Callable[[str], str]]:
    """Names ``dpt-<run id>-<word>-<random>``; every one is brought down after."""
    made: list[str] = []

    def make(word: str) -> str:
        name = f"dpt-{RUN_ID}-{word}-{uuid.uuid4().hex[:4]}"
        made.append(name)
        return name

    yield make
    for name in made:
        compose_down(name)
