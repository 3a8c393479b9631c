"""The processes that carry tunnels (ssh, cloudflared), started by a worker.

Where a tunnel's process lives: it is started by the Celery worker that
runs the start job (or the beat check that restarts it) in a session of its
own, so it outlives the job, the request, and a restart of that worker. Its
state is in the database, not in memory: the pid, the kernel's start time
of that pid (``/proc/<pid>/stat``, field 22), and the machine's name. Any
worker on the same machine can then tell whether the process still runs
and stop it, and a pid the kernel gave to another program since is never
taken for ours (its start time differs), so we never signal a stranger.

Output goes to a file in the tunnel's own owner-only folder under
``DATA_DIR/tunnels/<id>/``, where the key and known_hosts files of an SSH
tunnel are kept too; the logs endpoint reads its tail.

Known limit: a process can only be watched from the machine it runs on. The
beat check skips tunnels supervised by another host, so with workers on
several machines a tunnel whose machine is gone stays "running" until that
machine's worker comes back; run cloudflared as a sidecar container there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("dockpilot.tunnels.supervision")

LOG_NAME = "output.log"
LOG_ROTATE_BYTES = 1024 * 1024
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Process:
    """A started process as the database remembers it."""

    pid: int
    started: int


def this_host() -> str:
    return socket.gethostname()


def folder(tunnel_id: int) -> Path:
    """The tunnel's owner-only folder (output, key, known_hosts)."""
    path = Path(settings.DATA_DIR) / "tunnels" / str(tunnel_id)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    return path


def remove_folder(tunnel_id: int) -> None:
    shutil.rmtree(Path(settings.DATA_DIR) / "tunnels" / str(tunnel_id), True)


def write_private(path: Path, text: str) -> Path:
    """Write a file only its owner can read (a key, known_hosts)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    return path


def log_path(tunnel_id: int) -> Path:
    return folder(tunnel_id) / LOG_NAME


def _open_log(path: Path) -> int:
    if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
        path.replace(path.with_suffix(".log.1"))
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot); None if
    there is no such process or it is a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    """Start ``argv`` in a session of its own, output appended to ``log``."""
    fd = _open_log(log)
    try:
        child = subprocess.Popen(  # noqa: S603 - argv built by the providers
            argv,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})},
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(fd)
    # A thread of this process reaps the child when it exits, so a dead
    # tunnel process leaves no zombie behind while this worker lives.
    threading.Thread(target=child.wait, name=f"reap-{child.pid}", daemon=True).start()
    started = start_time(child.pid)
    logger.info("started %s as pid %s", Path(argv[0]).name, child.pid)
    return Process(child.pid, started or 0)


def alive(process: Process) -> bool:
    return start_time(process.pid) == process.started


def terminate(process: Process, timeout: float = 5.0) -> None:
    """Stop the process (and its session) if it is still the one we started."""
    if not alive(process):
        return
    _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(process):
            return
        time.sleep(0.05)
    _signal_group(process, signal.SIGKILL)
    logger.warning("pid %s did not stop on SIGTERM: killed", process.pid)


def _signal_group(process: Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a log file (reading at most 64 KiB)."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
        text = handle.read().decode(errors="replace")
    return text.splitlines()[-lines:]


def wait_for_output(
    path: Path,
    offset: int,
    found: Callable[[str], str | None],
    process_alive: Callable[[], bool],
    timeout: float,
) -> str | None:
    """Poll new output from ``offset`` until ``found(text)`` gives a value.

    Returns that value, or None when the process exited or time ran out.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = read_from(path, offset)
        value = found(text)
        if value:
            return str(value)
        if not process_alive():
            return found(read_from(path, offset)) or None
        time.sleep(0.1)
    return None


def read_from(path: Path, offset: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(TAIL_BYTES * 4).decode(errors="replace")


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
