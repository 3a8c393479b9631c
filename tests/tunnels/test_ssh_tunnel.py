"""SSH reverse tunnels against a real sshd on loopback, run by a real worker.

The tunnel's ssh process is started by the worker's start job and lives on
after the job ends; a port on the SSH server then carries HTTP to the
container; killing ssh is noticed by the beat check, which restarts it;
stopping the tunnel closes the port.
"""

from __future__ import annotations

import os
import signal

import pytest
from django.test import override_settings

from apps.audit.models import AuditLog
from apps.jobs.models import Status
from apps.tunnels import services, supervision
from apps.tunnels.models import TunnelConfig, TunnelStatus
from tests.jobs.conftest import wait_finished
from tests.jobs.services import free_port, stop

from .conftest import fetch_until, refused

pytestmark = pytest.mark.django_db(transaction=True)


def ssh_body(sshd, container, remote_port, host_key=None, name="web-ssh"):
    return {
        "name": name,
        "provider": "ssh",
        "container": container["name"],
        "target_port": 8080,
        "options": {
            "host": "127.0.0.1",
            "port": sshd.port,
            "user": sshd.user,
            "host_key": host_key or sshd.fingerprint,
            "remote_port": remote_port,
        },
        "private_key": sshd.client_key,
    }


def start(client, tunnel_id):
    response = client.post(f"/api/v1/tunnels/{tunnel_id}/start/")
    assert response.status_code == 202, response.content
    return wait_finished(response.json()["id"], seconds=60)


def test_ssh_tunnel_carries_http_restarts_after_a_kill_and_closes_on_stop(
    operator_client, sshd, http_container, tunnel_worker, cleanup_tunnels
):
    remote_port = free_port()
    created = operator_client.post(
        "/api/v1/tunnels/", ssh_body(sshd, http_container, remote_port), format="json"
    )
    assert created.status_code == 201, created.content
    tunnel_id = created.json()["id"]

    job = start(operator_client, tunnel_id)
    assert job.status == Status.SUCCEEDED, job.error
    detail = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/").json()
    assert detail["status"] == "running"
    assert detail["public_url"] == f"127.0.0.1:{remote_port}"
    # The job is over; the process it started still carries the tunnel.
    url = f"http://127.0.0.1:{remote_port}/"
    assert http_container["marker"] in fetch_until(url, http_container["marker"])
    status = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/status/").json()
    assert status["process_alive"] is True

    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    os.kill(tunnel.pid, signal.SIGKILL)
    assert refused(remote_port)
    with override_settings(TUNNEL_RESTART_BACKOFF_SECONDS=0):
        assert services.check_tunnels() == 1
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.RUNNING
    assert tunnel.restarts == 1
    restart = AuditLog.objects.get(action="tunnel.restart", resource_id=str(tunnel_id))
    assert restart.outcome == "success" and restart.details["attempt"] == 1
    fetch_until(url, http_container["marker"])

    logs = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/logs/").json()["lines"]
    assert any("remote forward success" in line for line in logs)

    stopped = operator_client.post(f"/api/v1/tunnels/{tunnel_id}/stop/")
    assert stopped.status_code == 202
    assert wait_finished(stopped.json()["id"]).status == Status.SUCCEEDED
    assert refused(remote_port)
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.STOPPED and tunnel.pid is None


def test_a_wrong_host_key_fingerprint_refuses_the_server(
    operator_client, sshd, http_container, tunnel_worker, cleanup_tunnels
):
    remote_port = free_port()
    wrong = "SHA256:" + "A" * 43
    created = operator_client.post(
        "/api/v1/tunnels/",
        ssh_body(sshd, http_container, remote_port, host_key=wrong),
        format="json",
    )
    job = start(operator_client, created.json()["id"])

    assert job.status == Status.FAILED
    assert "offered no host key with fingerprint" in job.error
    tunnel = TunnelConfig.objects.get(pk=created.json()["id"])
    assert tunnel.status == TunnelStatus.FAILED
    assert "fingerprint" in tunnel.status_reason
    assert refused(remote_port, seconds=1)


def test_a_host_key_line_that_is_not_the_servers_is_refused_by_ssh(
    operator_client, sshd, http_container, tunnel_worker, cleanup_tunnels, tmp_path
):
    # Another key than the server's: ssh itself must refuse (no first-use trust).
    from .conftest import _keygen

    _keygen(tmp_path / "other")
    other = (tmp_path / "other.pub").read_text().strip()
    remote_port = free_port()
    created = operator_client.post(
        "/api/v1/tunnels/",
        ssh_body(sshd, http_container, remote_port, host_key=other),
        format="json",
    )
    job = start(operator_client, created.json()["id"])

    assert job.status == Status.FAILED
    assert "Host key verification failed" in job.error
    assert refused(remote_port, seconds=1)


def test_repeated_failures_mark_the_tunnel_failed_with_the_reason(
    operator_client, sshd, http_container, tunnel_worker, cleanup_tunnels
):
    remote_port = free_port()
    created = operator_client.post(
        "/api/v1/tunnels/", ssh_body(sshd, http_container, remote_port), format="json"
    )
    tunnel_id = created.json()["id"]
    assert start(operator_client, tunnel_id).status == Status.SUCCEEDED
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    # The server now answers with another port taken: every restart fails.
    TunnelConfig.objects.filter(pk=tunnel_id).update(
        options={**tunnel.options, "port": free_port()}
    )
    supervision.terminate(supervision.Process(tunnel.pid, tunnel.process_started))

    with override_settings(TUNNEL_RESTART_BACKOFF_SECONDS=0, TUNNEL_MAX_RESTARTS=2):
        for _ in range(4):
            services.check_tunnels()
    tunnel.refresh_from_db()

    assert tunnel.status == TunnelStatus.FAILED
    assert "gave up after 2 restarts in a row that failed" in tunnel.status_reason
    assert AuditLog.objects.filter(action="tunnel.fail", resource_id=str(tunnel_id))
    assert (
        AuditLog.objects.filter(
            action="tunnel.restart", outcome="failure", resource_id=str(tunnel_id)
        ).count()
        == 2
    )


def test_the_ssh_process_outlives_its_worker_and_a_new_worker_stops_it(
    operator_client, sshd, http_container, tunnel_worker, cleanup_tunnels
):
    remote_port = free_port()
    created = operator_client.post(
        "/api/v1/tunnels/", ssh_body(sshd, http_container, remote_port), format="json"
    )
    tunnel_id = created.json()["id"]
    assert start(operator_client, tunnel_id).status == Status.SUCCEEDED
    url = f"http://127.0.0.1:{remote_port}/"
    fetch_until(url, http_container["marker"])

    # The worker that started it dies without any chance to clean up.
    stop(tunnel_worker.process, signal.SIGKILL)
    fetch_until(url, http_container["marker"])
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    assert supervision.alive(supervision.Process(tunnel.pid, tunnel.process_started))
    status = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/status/").json()
    assert status["status"] == "running" and status["process_alive"] is True

    tunnel_worker.restart()
    stopped = operator_client.post(f"/api/v1/tunnels/{tunnel_id}/stop/")
    assert wait_finished(stopped.json()["id"]).status == Status.SUCCEEDED
    assert refused(remote_port)
