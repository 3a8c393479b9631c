"""cloudflared as a sidecar container on the target's network.

The sidecar image is built here from the busybox test image, with a shell
stand-in of cloudflared as its entrypoint that accepts the quick-tunnel
call (``tunnel --no-autoupdate --url http://ADDRESS:PORT``): it prints the
trycloudflare.com box on stderr as the real one does, fetches the origin
once with wget and logs the answer, then waits.
"""

from __future__ import annotations

import io
import tarfile

import pytest

from apps.tunnels.models import TunnelConfig, TunnelStatus
from apps.tunnels.sidecar import LABEL
from tests.conftest import LABELS, RUN_ID

from .test_cloudflare_tunnels import logs_until, run_job

pytestmark = pytest.mark.django_db(transaction=True)

STANDIN = """#!/bin/sh
[ "$1 $2 $3" = "tunnel --no-autoupdate --url" ] && [ $# -eq 4 ] || {
  echo "ERR the stand-in does not accept: $*" >&2; exit 2; }
echo "INF |  https://sidecar-$(hostname).trycloudflare.com  |" >&2
if wget -q -O /dev/null "$4/"; then echo "INF origin $4 answered 200" >&2
else echo "ERR origin $4 unreachable" >&2; fi
exec sleep 600
"""


@pytest.fixture(scope="module")
def sidecar_image(docker_client, test_image):
    tag = f"dpt-{RUN_ID}/cloudflared:1"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (
            ("cloudflared", STANDIN),
            (
                "Dockerfile",
                f"FROM {test_image}\nCOPY cloudflared /usr/local/bin/cloudflared\n"
                'ENTRYPOINT ["/bin/sh", "/usr/local/bin/cloudflared"]\n',
            ),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    docker_client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=LABELS, rm=True
    )
    yield tag
    docker_client.api.remove_image(tag, force=True)


@pytest.fixture
def remove_sidecars(docker_client):
    yield
    for container in docker_client.api.containers(all=True, filters={"label": LABEL}):
        if TunnelConfig.objects.filter(pk=container["Labels"][LABEL]).exists():
            docker_client.api.remove_container(container["Id"], force=True)


def test_a_sidecar_quick_tunnel_reaches_the_container_on_its_network(
    operator_client,
    http_container,
    sidecar_image,
    settings,
    docker_client,
    remove_sidecars,
    cleanup_tunnels,
):
    settings.TUNNEL_CLOUDFLARED_IMAGE = sidecar_image
    created = operator_client.post(
        "/api/v1/tunnels/",
        {
            "name": "web-sidecar",
            "provider": "cloudflare_quick",
            "runner": "sidecar",
            "container": http_container["name"],
            "target_port": 8080,
        },
        format="json",
    )
    tunnel_id = created.json()["id"]

    job = run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/start/")

    assert job.status == "succeeded", job.error
    tunnel = TunnelConfig.objects.get(pk=tunnel_id)
    assert tunnel.public_url.endswith(".trycloudflare.com")
    address = docker_client.api.inspect_container(http_container["id"])[
        "NetworkSettings"
    ]["Networks"]["bridge"]["IPAddress"]
    origin = f"origin http://{address}:8080 answered"
    lines = logs_until(operator_client, tunnel_id, origin)
    assert any(f"{origin} 200" in line for line in lines), lines
    sidecar = tunnel.sidecar_id
    assert docker_client.api.inspect_container(sidecar)["State"]["Running"]

    run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/stop/")
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.STOPPED
    assert not docker_client.api.containers(all=True, filters={"id": sidecar})
