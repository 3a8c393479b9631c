"""The beat check on its own: a start job whose worker died fails its tunnel."""

from __future__ import annotations

import uuid

import pytest

from apps.containers.environments import default_environment
from apps.jobs.models import Job, Status
from apps.tunnels import services
from apps.tunnels.models import TunnelConfig, TunnelStatus

pytestmark = pytest.mark.django_db


def test_a_tunnel_left_starting_by_a_dead_start_job_is_marked_failed(operator_user):
    tunnel = TunnelConfig.objects.create(
        name="orphan",
        owner=operator_user,
        environment=default_environment(),
        provider="cloudflare_quick",
        container_id="0" * 64,
        target_port=80,
        status=TunnelStatus.STARTING,
        desired_running=True,
    )
    Job.objects.create(
        id=uuid.uuid4(),
        kind="tunnel_start",
        target=tunnel.name,
        params={"tunnel": tunnel.pk},
        status=Status.ERRORED,
        error="The worker w1 stopped answering",
    )

    services.check_tunnels()

    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.FAILED
    assert "start job ended errored: The worker w1" in tunnel.status_reason


def test_beat_runs_the_tunnel_check():
    from dockpilot.celery import app

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "apps.tunnels.tasks.check_tunnels" in schedule
    app.loader.import_default_modules()
    assert "apps.tunnels.tasks.check_tunnels" in app.tasks


@pytest.mark.parametrize(
    "user", ["-oProxyCommand=/tmp/x", "a b", "", "x" * 65], ids=repr
)
def test_an_ssh_user_that_could_be_an_option_is_refused(operator_client, user):
    response = operator_client.post(
        "/api/v1/tunnels/",
        {
            "name": "bad",
            "provider": "ssh",
            "container": "anything",
            "target_port": 80,
            "options": {"user": user},
        },
        format="json",
    )

    assert response.status_code == 400
    assert "user" in response.json()["details"]["fields"]["options"]


def test_a_quick_tunnel_error_naming_the_api_host_is_not_its_address():
    from apps.tunnels.cloudflare import QUICK_URL
    from apps.tunnels.providers import first_match

    ready = first_match(QUICK_URL)
    error = (
        'ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com'
        '/tunnel": dial tcp: lookup api.trycloudflare.com: no such host'
    )
    box = "INF |  https://seasonal-deck-organisms-sf.trycloudflare.com  |"

    assert ready(error) is None
    assert ready(error + "\n" + box) == (
        "https://seasonal-deck-organisms-sf.trycloudflare.com"
    )
