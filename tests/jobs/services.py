"""Real services the job tests run against, each started and stopped by pid.

A registry (``docker-registry``) on a loopback port, with or without
htpasswd logins; a Redis server on a loopback port; a throttling TCP proxy
in front of a registry, so that a pull lasts long enough to be canceled or
to have its worker killed; and Celery workers in their own processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), 0.5),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop one process we started, by its pid, and reap it."""
    if process.poll() is None:
        os.kill(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} is missing: apt-get install {package}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Registry:
    port: int
    process: subprocess.Popen
    username: str = ""
    password: str = ""

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_registry(folder: Path, users: dict[str, str] | None = None) -> Registry:
    binary = require("docker-registry", "docker-registry")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    auth = ""
    if users:
        htpasswd = require("htpasswd", "apache2-utils")
        for index, (name, password) in enumerate(users.items()):
            flags = "-Bbc" if index == 0 else "-Bb"
            subprocess.run(
                [htpasswd, flags, str(folder / "htpasswd"), name, password],
                check=True,
                capture_output=True,
            )
        auth = f"auth:\n  htpasswd:\n    realm: dpt\n    path: {folder / 'htpasswd'}\n"
    (folder / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}"
    )
    log = (folder / "registry.log").open("w")
    process = subprocess.Popen(
        [binary, "serve", str(folder / "config.yml")], stdout=log, stderr=log
    )
    wait_for_port(port, process)
    name, password = next(iter((users or {"": ""}).items()))
    return Registry(port, process, name, password)


def start_redis(folder: Path) -> tuple[str, subprocess.Popen]:
    binary = require("redis-server", "redis-server")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return f"redis://127.0.0.1:{port}/0", process


@dataclass
class SlowProxy:
    """Relays TCP to a registry, sending its answers at ``rate`` bytes/s."""

    target: int
    rate: int = 400_000
    port: int = 0
    open_connections: int = 0
    _listener: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sockets: set[socket.socket] = field(default_factory=set)

    def start(self) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()  # type: ignore[union-attr]
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target), 5)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
                self.open_connections += 1
            threading.Thread(
                target=self._pipe, args=(client, upstream, 0), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, self.rate), daemon=True
            ).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rate: int) -> None:
        try:
            while chunk := src.recv(16384 if rate else 65536):
                dst.sendall(chunk)
                if rate:
                    time.sleep(len(chunk) / rate)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            if rate:
                with self._lock:
                    self.open_connections -= 1


def worker_env(**extra: str) -> dict[str, str]:
    """What a worker process needs to share this test run's database and data."""
    from django.conf import settings
    from django.db import connection

    return {
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "dockpilot.settings.test"
        ),
        "DOCKPILOT_DATA_DIR": str(settings.DATA_DIR),
        "DOCKPILOT_DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "DOCKPILOT_REDIS_URL": "",
        **extra,
    }


def start_worker(
    env: dict[str, str], log: Path, name: str, beat: bool = False
) -> subprocess.Popen:
    """A real Celery worker process (threads pool: one pid to kill)."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dockpilot.celery",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "4",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    if beat:
        command += ["--beat", "--schedule", str(log.with_suffix(".schedule"))]
    # The log is shared by restarts: only what this start wrote counts.
    offset = log.stat().st_size if log.exists() else 0
    handle = log.open("a")
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=handle, stderr=handle
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {log.read_text()[offset:][-2000:]}")
        if " ready." in log.read_text()[offset:]:
            return process
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"worker not ready: {log.read_text()[-2000:]}")
