"""Tunnels follow their containers: labels make one, removal tears it down.

A container started through the portal with the label
``dockpilot.tunnel.hostname`` (and ``dockpilot.tunnel.port``, default 80)
gets a tunnel, if the user who started it may create one to it (operate
on the container). ``dockpilot.tunnel.provider`` picks the provider
(default ``cloudflare_quick``); ``dockpilot.tunnel.template`` names a
tunnel of that user in the same environment whose provider, options and
secrets are copied (how a named Cloudflare or SSH tunnel gets its account
or server). A quick tunnel has no hostname of its own: the label only asks
for one, and the address is the one Cloudflare assigns. Only starts through
the portal are seen (a container started on the engine directly is not).
Removing the container removes the tunnel. Deleting an environment stops
and tears down its tunnels before they are deleted with it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from apps.containers.engine import engine_for
from apps.containers.models import Environment
from apps.containers.signals import container_removed, container_started
from dockpilot.errors import PortalError

from . import services
from .models import Provider, TunnelConfig

logger = logging.getLogger("dockpilot.tunnels.receivers")

HOSTNAME = "dockpilot.tunnel.hostname"
PORT = "dockpilot.tunnel.port"
PROVIDER = "dockpilot.tunnel.provider"
TEMPLATE = "dockpilot.tunnel.template"


@receiver(container_removed)
def _removed(sender: Any, environment: Environment, engine_id: str, **_: Any) -> None:
    services.container_removed(environment, engine_id)


@receiver(pre_delete, sender=Environment)
def _environment_deleted(sender: Any, instance: Environment, **_: Any) -> None:
    # Its tunnels go with it (cascade): their processes and what they made
    # at the provider must not outlive them.
    for tunnel in TunnelConfig.objects.filter(environment=instance):
        services.discard(tunnel, reason="its environment was deleted")


@receiver(container_started)
def _started(
    sender: Any, environment: Environment, engine_id: str, request: Any, **_: Any
) -> None:
    try:
        tunnel_from_labels(environment, engine_id, request)
    except PortalError as exc:
        # The container did start; the refusal is audited by the service.
        logger.warning("no tunnel from the labels of %s: %s", engine_id[:12], exc)


def tunnel_from_labels(
    environment: Environment, engine_id: str, request: Any
) -> TunnelConfig | None:
    """Create and start the tunnel a container's labels ask for, once."""
    document = engine_for(environment).get_json("/containers/{0}/json", engine_id)
    labels = (document.get("Config") or {}).get("Labels") or {}
    if not labels.get(HOSTNAME):
        return None
    existing = TunnelConfig.objects.filter(
        environment=environment, container_id=engine_id, from_labels=True
    ).first()
    tunnel = existing or services.create_tunnel(
        request.user,
        _spec(environment, document, labels, request.user),
        request=request,
        from_labels=True,
    )
    if tunnel.status in ("stopped", "failed"):
        services.submit_start(tunnel, request=request)
    return tunnel


def _spec(
    environment: Environment,
    document: dict[str, Any],
    labels: dict[str, str],
    user: Any,
) -> dict[str, Any]:
    name = document["Name"].lstrip("/")
    try:
        port = int(labels.get(PORT) or 80)
    except ValueError:
        port = 0
    spec: dict[str, Any] = {
        "name": f"{name}-labels"[:64].replace("_", "-").replace(".", "-"),
        "environment_obj": environment,
        "container": document["Id"],
        "target_port": port,
        "hostname": labels[HOSTNAME],
        "provider": labels.get(PROVIDER) or Provider.CLOUDFLARE_QUICK,
    }
    template = labels.get(TEMPLATE)
    if template:
        spec.update(_from_template(environment, template, user))
    return spec


def _from_template(environment: Environment, name: str, user: Any) -> dict[str, Any]:
    source = TunnelConfig.objects.filter(
        environment=environment, name=name, owner=user
    ).first()
    if source is None:
        from dockpilot.errors import BadRequest

        raise BadRequest(
            f"label {TEMPLATE}: you have no tunnel named '{name}' in environment "
            f"'{environment.name}' to copy.",
        )
    return {
        "provider": source.provider,
        "runner": source.runner,
        "options": dict(source.options),
        **services.open_secrets(source),
    }
