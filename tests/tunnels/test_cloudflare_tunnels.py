"""Cloudflare tunnels against the stand-ins of cloudflared and of the API.

The jobs run in this process (``execute``), the provider code is the real
one: only the program it starts and the API base URL are settings.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from apps.jobs.models import Status
from apps.jobs.services import execute
from apps.tunnels.models import TunnelConfig, TunnelStatus

from .conftest import CF_ACCOUNT, CF_TOKEN, CF_ZONE

pytestmark = pytest.mark.django_db(transaction=True)


def run_job(client, path):
    response = client.post(path)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    execute(job_id, "test-worker")
    from apps.jobs.models import Job

    return Job.objects.get(pk=job_id)


def logs_until(client, tunnel_id, text: str, seconds: float = 15) -> list[str]:
    """The tunnel's process output once a line holds ``text`` (bounded wait).

    The start job ends when the address is known; what cloudflared prints
    after that (its first request to the origin) comes a moment later.
    """
    deadline = time.monotonic() + seconds
    while True:
        lines = client.get(f"/api/v1/tunnels/{tunnel_id}/logs/").json()["lines"]
        if any(text in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def named_body(container, hostname="app.example.test"):
    return {
        "name": "web-named",
        "provider": "cloudflare_named",
        "container": container["name"],
        "target_port": 8080,
        "hostname": hostname,
        "options": {"account_id": CF_ACCOUNT, "zone_id": CF_ZONE},
        "token": CF_TOKEN,
    }


def test_quick_tunnel_reads_its_trycloudflare_address(
    operator_client, cloudflare, http_container, cleanup_tunnels
):
    created = operator_client.post(
        "/api/v1/tunnels/",
        {
            "name": "web-quick",
            "provider": "cloudflare_quick",
            "container": http_container["name"],
            "target_port": 8080,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    tunnel_id = created.json()["id"]

    job = run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/start/")

    assert job.status == Status.SUCCEEDED, job.error
    detail = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/").json()
    assert re.fullmatch(r"https://[-a-z0-9]+\.trycloudflare\.com", detail["public_url"])
    assert detail["status"] == "running"
    # cloudflared was pointed at the container's published port, and reached it.
    origin = f"http://127.0.0.1:{http_container['published']}"
    lines = logs_until(operator_client, tunnel_id, f"origin {origin} answered")
    assert any(f"origin {origin} answered 200" in line for line in lines), lines

    stop = run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/stop/")
    assert stop.status == Status.SUCCEEDED
    assert TunnelConfig.objects.get(pk=tunnel_id).status == TunnelStatus.STOPPED


def test_named_tunnel_sets_ingress_and_dns_and_delete_removes_only_its_own(
    operator_client, cloudflare, http_container, cleanup_tunnels
):
    theirs = cloudflare.add_record("www.example.test", "192.0.2.1")
    created = operator_client.post(
        "/api/v1/tunnels/", named_body(http_container), format="json"
    )
    assert created.status_code == 201, created.content
    tunnel_id = created.json()["id"]

    job = run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/start/")

    assert job.status == Status.SUCCEEDED, job.error
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    cf_id = tunnel.created_at_provider["tunnel_id"]
    assert list(cloudflare.tunnels) == [cf_id]
    ingress = cloudflare.configs[cf_id]["ingress"]
    assert ingress[0] == {
        "hostname": "app.example.test",
        "service": f"http://127.0.0.1:{http_container['published']}",
    }
    assert ingress[-1] == {"service": "http_status:404"}
    (ours,) = tunnel.created_at_provider["dns_record_ids"]
    assert cloudflare.records[ours]["type"] == "CNAME"
    assert cloudflare.records[ours]["name"] == "app.example.test"
    assert cloudflare.records[ours]["content"] == f"{cf_id}.cfargotunnel.com"
    assert tunnel.public_url == "https://app.example.test"
    lines = operator_client.get(f"/api/v1/tunnels/{tunnel_id}/logs/").json()["lines"]
    assert any(
        f"Registered tunnel connection connIndex=0 tunnelID={cf_id}" in x for x in lines
    )

    # A running tunnel is not deleted behind its process's back.
    assert operator_client.delete(f"/api/v1/tunnels/{tunnel_id}/").status_code == 409
    run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/stop/")
    assert operator_client.delete(f"/api/v1/tunnels/{tunnel_id}/").status_code == 204

    assert cloudflare.tunnels == {}
    assert list(cloudflare.records) == [theirs]
    assert ("DELETE", f"/client/v4/zones/{CF_ZONE}/dns_records/{ours}") in (
        cloudflare.calls
    )


def test_a_refused_api_token_fails_the_start_with_cloudflares_reason(
    operator_client, cloudflare, http_container, cleanup_tunnels
):
    body = {**named_body(http_container), "token": "not-the-token-123"}
    created = operator_client.post("/api/v1/tunnels/", body, format="json")

    job = run_job(operator_client, f"/api/v1/tunnels/{created.json()['id']}/start/")

    assert job.status == Status.FAILED
    assert "10000 Authentication error" in job.error
    tunnel = TunnelConfig.objects.get(pk=created.json()["id"])
    assert tunnel.status == TunnelStatus.FAILED
    assert cloudflare.tunnels == {}


def test_a_stop_asked_while_starting_leaves_nothing_running(
    operator_client, cloudflare, http_container, cleanup_tunnels
):
    created = operator_client.post(
        "/api/v1/tunnels/",
        {
            "name": "web-quick",
            "provider": "cloudflare_quick",
            "container": http_container["name"],
            "target_port": 8080,
        },
        format="json",
    )
    tunnel_id = created.json()["id"]
    start = operator_client.post(f"/api/v1/tunnels/{tunnel_id}/start/").json()["id"]
    stop = operator_client.post(f"/api/v1/tunnels/{tunnel_id}/stop/")
    assert stop.status_code == 202

    # The stop job runs first, while the start job has not finished yet.
    execute(stop.json()["id"], "test-worker")
    execute(start, "test-worker")

    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    assert tunnel.status == TunnelStatus.STOPPED and tunnel.pid is None
    assert not standins_for(f"http://127.0.0.1:{http_container['published']}")


def standins_for(url: str) -> list[int]:
    """Pids of stand-in cloudflared processes pointed at ``url``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if url.encode() in argv and state != "Z":
                found.append(int(entry.name))
    return found
