"""cloudflared as a sidecar container on the target container's network.

The sidecar is created from ``DOCKPILOT_TUNNEL_CLOUDFLARED_IMAGE`` with the
provider's arguments (the image's entrypoint is cloudflared), labelled
with the tunnel's id, owned by the tunnel's owner, and removed when the
tunnel stops. The engine keeps it running; the beat check asks the engine
whether it still does.

Known limit: a named tunnel's sidecar gets its tunnel token in the
container's environment (``TUNNEL_TOKEN``), as cloudflared's image expects.
The portal masks environment values in inspect answers unless the user may
change the container (its owner, the tunnel's owner, may), but anyone with
direct access to the engine reads it. The Cloudflare API token itself never
reaches the sidecar.
"""

from __future__ import annotations

import contextlib
import logging
import time

from django.conf import settings

from apps.accounts import access
from apps.containers.engine import engine_for
from dockpilot.errors import NotFound

from .models import TunnelConfig
from .providers import Emit, Launch, Running, TunnelFailed, mask
from .targets import Target

logger = logging.getLogger("dockpilot.tunnels.sidecar")

LABEL = "dockpilot.tunnel.sidecar"


def start(tunnel: TunnelConfig, launch: Launch, target: Target, emit: Emit) -> Running:
    engine = engine_for(tunnel.environment)
    image = settings.TUNNEL_CLOUDFLARED_IMAGE
    emit(f"starting a cloudflared sidecar from {image} on network {target.network}")
    created = engine.call(
        "create_container",
        image,
        command=launch.argv[1:],
        environment=launch.env,
        name=f"dockpilot-tunnel-{tunnel.pk}-{int(time.time())}",
        labels={LABEL: str(tunnel.pk)},
        host_config=engine.api.create_host_config(network_mode=target.network),
    )
    sidecar_id = created["Id"]
    access.record_owner(tunnel.owner, tunnel.environment, "container", sidecar_id)
    engine.call("start", sidecar_id)

    deadline = time.monotonic() + settings.TUNNEL_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        output = _output(tunnel, sidecar_id)
        url = launch.ready(output)
        if url:
            return Running(url, sidecar_id=sidecar_id)
        if not _running(tunnel, sidecar_id):
            break
        time.sleep(0.2)
    last = mask(_output(tunnel, sidecar_id), launch.secrets).strip().splitlines()[-5:]
    remove(tunnel, sidecar_id)
    raise TunnelFailed(
        "the cloudflared sidecar did not come up; its last output: "
        + (" | ".join(last) or "no output")
    )


def _output(tunnel: TunnelConfig, sidecar_id: str, lines: int = 500) -> str:
    raw = engine_for(tunnel.environment).call("logs", sidecar_id, tail=lines)
    return bytes(raw).decode(errors="replace")


def _running(tunnel: TunnelConfig, sidecar_id: str) -> bool:
    try:
        document = engine_for(tunnel.environment).get_json(
            "/containers/{0}/json", sidecar_id
        )
    except NotFound:
        return False
    return bool(document["State"].get("Running"))


def alive(tunnel: TunnelConfig) -> bool:
    return bool(tunnel.sidecar_id) and _running(tunnel, tunnel.sidecar_id)


def logs(tunnel: TunnelConfig, lines: int) -> list[str]:
    if not tunnel.sidecar_id:
        return []
    try:
        return _output(tunnel, tunnel.sidecar_id, lines).splitlines()
    except NotFound:
        return []


def remove(tunnel: TunnelConfig, sidecar_id: str) -> None:
    with contextlib.suppress(NotFound):
        engine_for(tunnel.environment).call("remove_container", sidecar_id, force=True)
    access.forget(tunnel.environment, "container", [sidecar_id])
    logger.info("removed sidecar %s of tunnel %s", sidecar_id[:12], tunnel.pk)
