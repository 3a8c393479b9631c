"""Who may see and act on a tunnel: decided by ``apps.accounts.access``.

Owners hold every verb on their tunnels; others need a grant on the tunnel
(``view``, ``change``, ``delete``, ``operate``: start and stop) and must
reach its environment. Creating one needs ``operate`` on its container.
"""

from __future__ import annotations

from typing import Any

from apps.accounts import access
from dockpilot.errors import NotFound

from .models import TunnelConfig


def find_tunnel(user: Any, pk: str) -> TunnelConfig:
    """A tunnel the user may see; any other id answers 404."""
    tunnel = (
        access.visible_tunnels(user).filter(pk=pk).first() if pk.isdigit() else None
    )
    if tunnel is None:
        raise NotFound(f"tunnel '{pk}' does not exist.", code="not_found")
    return tunnel
