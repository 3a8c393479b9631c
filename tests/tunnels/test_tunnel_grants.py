"""Sharing tunnels through grants, and what deleting takes with it."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from apps.audit.models import AuditLog
from apps.containers.environments import default_environment
from apps.containers.models import Environment
from apps.tunnels import supervision
from apps.tunnels.models import TunnelConfig
from tests.conftest import client_for

from .test_cloudflare_tunnels import run_job
from .test_following_containers import quick_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_shares_a_tunnel_and_takes_the_grant_back(
    operator_client, http_container, viewer_user, cleanup_tunnels
):
    tunnel_id = operator_client.post(
        "/api/v1/tunnels/", quick_body(http_container), format="json"
    ).json()["id"]
    viewer = client_for(viewer_user)
    assert viewer.get(f"/api/v1/tunnels/{tunnel_id}/").status_code == 404

    granted = operator_client.post(
        "/api/v1/grants/",
        {
            "permission": "view",
            "object_type": "tunnel",
            "object_id": str(tunnel_id),
            "user": viewer_user.username,
        },
        format="json",
    )
    assert granted.status_code == 201, granted.content
    assert viewer.get(f"/api/v1/tunnels/{tunnel_id}/").status_code == 200
    (listed,) = [
        g
        for g in operator_client.get("/api/v1/grants/").json()["results"]
        if g["object_type"] == "tunnel"
    ]
    assert listed["object_name"] == "web-quick"

    revoked = operator_client.delete(f"/api/v1/grants/{listed['id']}/")
    assert revoked.status_code == 204
    assert viewer.get(f"/api/v1/tunnels/{tunnel_id}/").status_code == 404


def test_a_deleted_tunnel_leaves_no_grant_behind(
    operator_client, http_container, viewer_user, cleanup_tunnels
):
    tunnel_id = operator_client.post(
        "/api/v1/tunnels/", quick_body(http_container), format="json"
    ).json()["id"]
    operator_client.post(
        "/api/v1/grants/",
        {
            "permission": "view",
            "object_type": "tunnel",
            "object_id": str(tunnel_id),
            "user": viewer_user.username,
        },
        format="json",
    )

    assert operator_client.delete(f"/api/v1/tunnels/{tunnel_id}/").status_code == 204

    assert not UserObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(TunnelConfig),
        object_pk=str(tunnel_id),
    ).exists()


def test_deleting_an_environment_stops_its_tunnels_first(
    admin_client, cloudflare, http_container, cleanup_tunnels
):
    other = Environment.objects.create(
        name="dpt-other", endpoint=default_environment().endpoint
    )
    body = {**quick_body(http_container), "environment": other.name}
    created = admin_client.post("/api/v1/tunnels/", body, format="json")
    assert created.status_code == 201, created.content
    tunnel_id = created.json()["id"]
    run_job(admin_client, f"/api/v1/tunnels/{tunnel_id}/start/")
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    process = supervision.Process(tunnel.pid, tunnel.process_started)
    assert supervision.alive(process)

    assert admin_client.delete(f"/api/v1/environments/{other.pk}/").status_code == 204

    assert not TunnelConfig.objects.filter(pk=tunnel_id).exists()
    assert not supervision.alive(process)
    row = AuditLog.objects.get(action="tunnel.delete", resource_id=str(tunnel_id))
    assert row.details["reason"] == "its environment was deleted"
