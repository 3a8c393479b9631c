"""Tunnels follow their containers: labels make one, removal tears it down;
and only someone who may operate a container may expose it."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.accounts import access
from apps.audit.models import AuditLog
from apps.containers.environments import default_environment
from apps.jobs.models import Job, Status
from apps.jobs.services import execute
from apps.tunnels import supervision
from apps.tunnels.models import TunnelConfig, TunnelStatus
from tests.conftest import LABELS, client_for, grant_environment, make_user

from .test_cloudflare_tunnels import named_body, run_job

pytestmark = pytest.mark.django_db(transaction=True)


def quick_body(container):
    return {
        "name": "web-quick",
        "provider": "cloudflare_quick",
        "container": container["name"],
        "target_port": 8080,
    }


def test_removing_the_container_stops_its_tunnel_and_removes_its_records(
    operator_client, cloudflare, http_container, cleanup_tunnels
):
    created = operator_client.post(
        "/api/v1/tunnels/", named_body(http_container), format="json"
    )
    tunnel_id = created.json()["id"]
    run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/start/")
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    process = supervision.Process(tunnel.pid, tunnel.process_started)
    assert supervision.alive(process) and cloudflare.tunnels

    removed = operator_client.delete(
        f"/api/v1/containers/{http_container['name']}/?force=true"
    )

    assert removed.status_code == 204
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.STOPPED
    assert tunnel.status_reason == "its container was removed"
    assert not supervision.alive(process)
    assert cloudflare.tunnels == {} and cloudflare.records == {}
    assert AuditLog.objects.filter(action="tunnel.stop", resource_id=str(tunnel_id))


def test_labels_give_a_started_container_a_tunnel_that_goes_with_it(
    operator_client, cloudflare, test_image, unique_name, cleanup_tunnels
):
    created = operator_client.post(
        "/api/v1/containers/",
        {
            "image": test_image,
            "name": unique_name,
            "command": [
                "sh",
                "-c",
                "mkdir /w && echo hi > /w/index.html && exec httpd -f -p 8080 -h /w",
            ],
            "labels": {
                **LABELS,
                "dockpilot.tunnel.hostname": "labelled.example.test",
                "dockpilot.tunnel.port": "8080",
            },
            "ports": [{"container_port": 8080, "host_ip": "127.0.0.1"}],
            "start": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content

    tunnel = TunnelConfig.objects.get(container_id=created.json()["id"])
    assert tunnel.from_labels and tunnel.target_port == 8080
    assert tunnel.status == TunnelStatus.STARTING
    job = Job.objects.get(kind="tunnel_start", target=tunnel.name)
    execute(str(job.pk), "test-worker")
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.RUNNING, tunnel.status_reason
    assert tunnel.public_url.endswith(".trycloudflare.com")
    process = supervision.Process(tunnel.pid, tunnel.process_started)

    removed = operator_client.delete(f"/api/v1/containers/{unique_name}/?force=true")

    assert removed.status_code == 204
    assert not TunnelConfig.objects.filter(pk=tunnel.pk).exists()
    assert not supervision.alive(process)


def test_a_tunnel_to_a_container_needs_operate_on_it(
    http_container, operator_user, cleanup_tunnels
):
    onlooker = make_user("olga-onlooker", "operator")
    grant_environment(onlooker, ("view", "operate"))
    row = access.ownership(default_environment(), "container", http_container["id"])
    assign_perm("containers.view_resourceownership", onlooker, row)
    stranger = make_user("sam-stranger", "operator")
    grant_environment(stranger, ("view", "operate"))

    seen = client_for(onlooker).post(
        "/api/v1/tunnels/", quick_body(http_container), format="json"
    )
    unseen = client_for(stranger).post(
        "/api/v1/tunnels/", quick_body(http_container), format="json"
    )

    assert seen.status_code == 403
    assert unseen.status_code == 404
    assert not TunnelConfig.objects.exists()
    refusals = AuditLog.objects.filter(action="tunnel.create", outcome="failure")
    assert refusals.count() == 2


def test_others_do_not_see_a_tunnel_and_viewers_cannot_start_it(
    operator_client, http_container, viewer_user, cleanup_tunnels
):
    created = operator_client.post(
        "/api/v1/tunnels/", quick_body(http_container), format="json"
    )
    tunnel = TunnelConfig.objects.get(pk=created.json()["id"])
    viewer = client_for(viewer_user)
    assert viewer.get(f"/api/v1/tunnels/{tunnel.pk}/").status_code == 404
    assert viewer.get("/api/v1/tunnels/").json()["results"] == []

    assign_perm("tunnels.view_tunnelconfig", viewer_user, tunnel)
    assert viewer.get(f"/api/v1/tunnels/{tunnel.pk}/").status_code == 200
    assert viewer.post(f"/api/v1/tunnels/{tunnel.pk}/start/").status_code == 403
    assert Job.objects.filter(status=Status.QUEUED).count() == 0


def test_beat_tears_down_the_tunnel_of_a_container_removed_outside_the_portal(
    operator_client, cloudflare, http_container, docker_client, cleanup_tunnels
):
    from apps.tunnels.tasks import check_tunnels

    created = operator_client.post(
        "/api/v1/tunnels/", named_body(http_container), format="json"
    )
    tunnel_id = created.json()["id"]
    run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/start/")
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    process = supervision.Process(tunnel.pid, tunnel.process_started)

    docker_client.api.remove_container(http_container["id"], force=True)
    check_tunnels()

    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.STOPPED
    assert tunnel.status_reason == "its container was removed"
    assert not supervision.alive(process)
    assert cloudflare.tunnels == {} and cloudflare.records == {}
