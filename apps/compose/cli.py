"""Running the ``docker compose`` CLI (v2): an argument list, never a shell.

Every command names the project, its directory, its compose file and its
``.env`` explicitly, so nothing is guessed from the working directory. The
CLI gets a minimal environment: Compose interpolates ``${VAR}`` from the
process environment before ``.env``, and the worker's own variables
(secrets among them) must not leak into a project through interpolation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.containers.engine import endpoint_of
from apps.containers.models import Environment
from dockpilot.errors import PortalError

from .files import COMPOSE_FILE, ENV_FILE

logger = logging.getLogger("dockpilot.compose.cli")

# Variables of the portal's own process the CLI may see: where the engine
# is and how to reach it, nothing else.
_PASSED_ON = ("DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")
OUTPUT_LIMIT = 1_000_000


class ComposeUnavailable(PortalError):
    status_code = 503
    default_code = "compose_unavailable"
    default_detail = (
        "The docker compose CLI (v2) is not installed where the portal runs: "
        "install the Compose plugin, then retry."
    )


class ComposeTimeout(PortalError):
    # 504: the portal waited on the CLI (and the engine behind it) as a
    # gateway does; 503 is kept for a CLI or engine that is not there at all.
    status_code = 504
    default_code = "compose_timeout"
    default_detail = "docker compose did not answer in time; retry later."


@dataclass(frozen=True)
class Files:
    """What one command runs on: a project's name, directory and files."""

    name: str
    directory: str
    folder: Path  # where compose.yaml and .env are

    def options(self) -> list[str]:
        return [
            "--ansi",
            "never",
            "--progress",
            "plain",
            "--project-name",
            self.name,
            "--project-directory",
            self.directory,
            "--file",
            str(self.folder / COMPOSE_FILE),
            "--env-file",
            str(self.folder / ENV_FILE),
        ]


def docker_binary() -> str:
    found = shutil.which("docker")
    if found is None:
        raise ComposeUnavailable()
    return found


def environment_variables(environment: Environment) -> dict[str, str]:
    home = Path(settings.DATA_DIR) / "compose-home"
    home.mkdir(mode=0o700, exist_ok=True)
    variables = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / ".docker"),
        "DOCKER_HOST": endpoint_of(environment),
    }
    for key in _PASSED_ON:
        if key in os.environ:
            variables[key] = os.environ[key]
    return variables


def command(files: Files, arguments: list[str], profiles: list[str]) -> list[str]:
    """The full argument list: global options, profiles, then the subcommand."""
    chosen = [part for profile in profiles for part in ("--profile", profile)]
    return [docker_binary(), "compose", *files.options(), *chosen, *arguments]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def capture(environment: Environment, argv: list[str], timeout: float = 60) -> Outcome:
    """Run a short command (config, version) and return what it printed.

    The CLI runs in a session of its own: ``docker`` hands the work to the
    ``docker-compose`` plugin, a child process, and on a timeout the whole
    group is killed, not only the wrapper.
    """
    process = subprocess.Popen(  # noqa: S603 - an argument list, no shell
        argv,
        env=environment_variables(environment),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        kill_group(process, signal.SIGKILL)
        process.communicate()
        raise ComposeTimeout(
            f"docker compose did not answer within {timeout:.0f} s; retry later."
        ) from exc
    finally:
        if process.poll() is None:
            kill_group(process, signal.SIGKILL)
            process.wait()
    # The wrapper may end before a child it started: no one is left behind.
    kill_group(process, signal.SIGKILL)
    return Outcome(process.returncode, stdout, stderr)


def stream(
    environment: Environment,
    argv: list[str],
    on_line: Callable[[str], None],
    *,
    timeout: float,
    on_start: Callable[[Callable[[], None]], None] | None = None,
) -> tuple[int, list[str]]:
    """Run a long command, handing each line it prints (both streams) to ``on_line``.

    Returns the exit code and the last lines, for the error message. A
    command that outlives ``timeout`` is stopped and reported as failed.
    ``on_start`` receives the function that stops the command (a cancel):
    it stops the command's whole process group, as the timeout does.
    """
    process = subprocess.Popen(  # noqa: S603 - an argument list, no shell
        argv,
        env=environment_variables(environment),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
    )
    if on_start is not None:
        on_start(lambda: _stop(process))
    timer = threading.Timer(timeout, _stop, args=(process,))
    timer.start()
    last: list[str] = []
    started = time.monotonic()
    try:
        assert process.stdout is not None  # noqa: S101 - PIPE was asked for
        for line in process.stdout:
            line = line.rstrip("\n")
            last = [*last[-19:], line]
            on_line(line)
        returncode = process.wait(timeout=30)
    finally:
        timer.cancel()
        _stop(process)
    if time.monotonic() - started >= timeout:
        last.append(f"(stopped after {timeout:.0f} s)")
    return returncode, last


def kill_group(process: subprocess.Popen[str], sent: signal.Signals | int) -> bool:
    """Send ``sent`` to the process group the command leads (its own session).

    False when no process of the group is left.
    """
    try:
        os.killpg(process.pid, sent)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop(process: subprocess.Popen[str]) -> None:
    # The whole group: the docker wrapper and the compose plugin it started,
    # given ten seconds to end on SIGTERM before SIGKILL.
    kill_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 10
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    while kill_group(process, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_group(process, signal.SIGKILL)
    process.wait()
