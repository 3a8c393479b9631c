"""Fixtures of the tunnel tests: a real sshd on loopback, keys, a container
serving HTTP on a published loopback port, a real worker, and the
Cloudflare stand-ins (``cloudflared_standin.py``, ``cloudflare_api.py``)."""

from __future__ import annotations

import contextlib
import getpass
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from apps.tunnels import supervision
from apps.tunnels.models import TunnelConfig
from tests.conftest import RUN_ID
from tests.jobs.services import (
    free_port,
    require,
    start_worker,
    stop,
    wait_for_port,
    worker_env,
)

from .cloudflare_api import CloudflareState, StandInCloudflare

HERE = Path(__file__).resolve().parent
STANDIN = HERE / "cloudflared_standin.py"
CF_TOKEN = "cf-api-token-" + uuid.uuid4().hex
# Cloudflare's ids are 32 hexadecimal digits.
CF_ACCOUNT = uuid.uuid4().hex
CF_ZONE = uuid.uuid4().hex


def _keygen(path: Path) -> None:
    subprocess.run(
        [
            require("ssh-keygen", "openssh-client"),
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "dpt-test",
            "-f",
            str(path),
        ],
        check=True,
        timeout=30,
    )


@dataclass
class Sshd:
    port: int
    user: str
    host_key_line: str
    fingerprint: str
    client_key: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def sshd(tmp_path_factory) -> Iterator[Sshd]:
    """Our own sshd on a free 127.0.0.1 port: own host key, one client key."""
    binary = "/usr/sbin/sshd"
    if not Path(binary).exists():
        require("sshd", "openssh-server")
    folder = tmp_path_factory.mktemp("sshd")
    folder.chmod(0o700)
    _keygen(folder / "host_key")
    _keygen(folder / "client_key")
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder}/host_key\n"
        f"PidFile {folder}/sshd.pid\nAuthorizedKeysFile {folder}/authorized_keys\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nAllowTcpForwarding remote\nGatewayPorts no\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
        "X11Forwarding no\nPermitTTY no\nLogLevel VERBOSE\n"
    )
    # sshd insists on its privilege separation folder.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = (folder / "sshd.log").open("w")
    process = subprocess.Popen(
        [binary, "-D", "-e", "-f", str(folder / "sshd_config")],
        stdout=log,
        stderr=log,
    )
    wait_for_port(port, process)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(folder / "host_key.pub")],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()[1]
    yield Sshd(
        port,
        getpass.getuser(),
        (folder / "host_key.pub").read_text().strip(),
        fingerprint,
        (folder / "client_key").read_text(),
        process,
    )
    stop(process)


@pytest.fixture
def http_container(make_container, operator_user, docker_client, unique_name):
    """A container of the operator serving HTTP on 8080, published on loopback."""
    marker = f"hello-{uuid.uuid4().hex[:8]}"
    container_id = make_container(
        unique_name,
        command=[
            "sh",
            "-c",
            f"mkdir -p /www && echo {marker} > /www/index.html "
            "&& exec httpd -f -p 8080 -h /www",
        ],
        owner=operator_user,
        ports=[8080],
        host_config=docker_client.api.create_host_config(
            port_bindings={8080: ("127.0.0.1", None)}
        ),
    )
    published = int(docker_client.api.port(container_id, 8080)[0]["HostPort"])
    fetch_until(f"http://127.0.0.1:{published}/", marker)
    return {
        "id": container_id,
        "name": unique_name,
        "marker": marker,
        "published": published,
    }


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=3) as answer:
        return answer.read().decode()


def fetch_until(url: str, expected: str, seconds: float = 15) -> str:
    """GET ``url`` (bounded) until the body holds ``expected``."""
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            body = fetch(url)
            if expected in body:
                return body
            last = body
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered {expected!r}; last: {last!r}")


def refused(port: int, seconds: float = 10) -> bool:
    """Whether 127.0.0.1:port stops accepting within ``seconds``."""
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                pass
        except OSError:
            return True
        time.sleep(0.1)
    return False


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path
    env: dict[str, str]

    def restart(self) -> None:
        self.process = start_worker(self.env, self.log, f"dpt-tunnels-{RUN_ID}")


@pytest.fixture
def tunnel_worker(transactional_db, tmp_path) -> Iterator[Worker]:
    """A real Celery worker (filesystem broker) that runs the tunnel jobs."""
    env = worker_env(
        DOCKPILOT_SECRET_KEY=settings.SECRET_KEY,
    )
    log = tmp_path / "worker.log"
    worker = Worker(start_worker(env, log, f"dpt-tunnels-{RUN_ID}"), log, env)
    yield worker
    stop(worker.process)


@pytest.fixture
def cleanup_tunnels(operator_user) -> Iterator[None]:
    """A failing test must not leave its tunnel process running (torn down
    before the database is emptied)."""
    yield
    with contextlib.suppress(Exception):
        for tunnel in TunnelConfig.objects.exclude(pid=None):
            supervision.terminate(
                supervision.Process(tunnel.pid, tunnel.process_started)
            )


@pytest.fixture
def cloudflare(settings) -> Iterator[CloudflareState]:
    state = CloudflareState(CF_TOKEN, CF_ACCOUNT, CF_ZONE)
    server = StandInCloudflare(state)
    server.start()
    settings.TUNNEL_CLOUDFLARE_API_URL = server.url
    settings.TUNNEL_CLOUDFLARED_BINARY = str(STANDIN)
    yield state
    server.stop()
