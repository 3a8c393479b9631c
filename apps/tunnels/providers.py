"""One interface over every tunnel provider, and the two ways to run one.

A provider says what to run (``launch``: program, arguments, environment,
and how to read from its output that the tunnel is up) and what to set up
and remove at the provider's side (``prepare``, ``teardown``). How it runs
is the runner's business: a supervised process (``supervision``) or a
sidecar container on the target's network (``sidecar``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from dockpilot.errors import PortalError

from . import supervision
from .models import Provider, Runner, TunnelConfig
from .targets import Target

logger = logging.getLogger("dockpilot.tunnels.providers")

Emit = Callable[[str], None]


class TunnelFailed(PortalError):
    """The provider refused or the tunnel process did not come up."""

    status_code = 409
    default_code = "tunnel_failed"


@dataclass
class Launch:
    """What to run for a tunnel, and how to recognise that it is up.

    ``ready`` reads the process's output so far and returns the public URL
    once the tunnel is up (None until then).
    """

    argv: list[str]
    ready: Callable[[str], str | None]
    env: dict[str, str] = field(default_factory=dict)
    # Values to mask wherever the process's output is shown.
    secrets: list[str] = field(default_factory=list)


class TunnelProvider:
    """The base of every provider: nothing to set up, nothing to remove."""

    runners: tuple[str, ...] = (Runner.PROCESS,)

    def prepare(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target, emit: Emit
    ) -> None:
        """Create what the provider needs before the process runs."""

    def launch(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target
    ) -> Launch:
        raise NotImplementedError

    def teardown(self, tunnel: TunnelConfig, secrets: dict[str, str]) -> None:
        """Remove what ``prepare`` created, and only that."""


def provider_for(tunnel: TunnelConfig) -> TunnelProvider:
    from .cloudflare import NamedTunnel, QuickTunnel
    from .ssh import SshTunnel

    providers: dict[str, type[TunnelProvider]] = {
        Provider.SSH: SshTunnel,
        Provider.CLOUDFLARE_QUICK: QuickTunnel,
        Provider.CLOUDFLARE_NAMED: NamedTunnel,
    }
    return providers[tunnel.provider]()


def mask(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value (and each of its lines) replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        for piece in [secret, *secret.splitlines()]:
            if len(piece.strip()) >= 8:
                text = text.replace(piece.strip(), "***")
    return text


def first_match(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    def ready(text: str) -> str | None:
        found = pattern.search(text)
        return found.group(0) if found else None

    return ready


@dataclass
class Running:
    """What the runner reports once a tunnel is up."""

    public_url: str
    pid: int | None = None
    process_started: int | None = None
    sidecar_id: str = ""


def run_process(tunnel: TunnelConfig, launch: Launch, emit: Emit) -> Running:
    """Start the provider's process and wait until its output says it is up."""
    log = supervision.log_path(tunnel.pk)
    offset = supervision.size(log)
    emit(f"starting {launch.argv[0].rsplit('/', 1)[-1]}")
    try:
        process = supervision.spawn(launch.argv, log, launch.env)
    except OSError as exc:
        raise TunnelFailed(
            f"cannot run {launch.argv[0]}: {exc.strerror}. Install it or set "
            "its path in the portal's settings.",
        ) from exc

    url = supervision.wait_for_output(
        log,
        offset,
        launch.ready,
        lambda: supervision.alive(process),
        settings.TUNNEL_START_TIMEOUT_SECONDS,
    )
    if url is None or not supervision.alive(process):
        supervision.terminate(process)
        raise TunnelFailed(_no_start_reason(log, offset, launch))
    return Running(url, process.pid, process.started)


def _no_start_reason(log: Any, offset: int, launch: Launch) -> str:
    output = mask(supervision.read_from(log, offset), launch.secrets)
    last = " | ".join(output.strip().splitlines()[-5:]) or "no output"
    return (
        f"the tunnel did not come up within {settings.TUNNEL_START_TIMEOUT_SECONDS}"
        f" s; its last output: {last}"
    )[:2000]
