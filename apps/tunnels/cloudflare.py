"""Cloudflare tunnels: quick tunnels, and named tunnels through the v4 API.

A quick tunnel needs no account: ``cloudflared tunnel --no-autoupdate --url
<target>`` prints the ``https://<words>.trycloudflare.com`` address it was
given, which is read from its output.

A named tunnel is made with the user's API token (permissions: Cloudflare
Tunnel edit, DNS edit) in their account and zone:

1. ``POST /accounts/{account}/cfd_tunnel`` with ``config_src: cloudflare``
   creates the tunnel (its id is stored at once);
2. ``PUT /accounts/{account}/cfd_tunnel/{id}/configurations`` sends the
   ingress: the hostname to the target, everything else a 404;
3. ``POST /zones/{zone}/dns_records`` creates the proxied CNAME of the
   hostname to ``{id}.cfargotunnel.com`` (its id is stored at once);
4. ``GET /accounts/{account}/cfd_tunnel/{id}/token`` gives the token that
   ``cloudflared tunnel --no-autoupdate run`` reads from ``TUNNEL_TOKEN``
   (in its environment, not its arguments, so it stays out of process
   listings).

Teardown deletes the DNS records and the tunnel that were stored, and
nothing else. Every answer is ``{success, errors, messages, result}``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from django.conf import settings

from .models import TunnelConfig
from .providers import Emit, Launch, TunnelFailed, TunnelProvider, first_match
from .targets import Target

logger = logging.getLogger("dockpilot.tunnels.cloudflare")

# The address is words joined by hyphens; cloudflared also names its API
# host (api.trycloudflare.com) in errors, which must not be taken for it.
QUICK_URL = re.compile(r"https://[a-z0-9]+(?:-[a-z0-9]+)+\.trycloudflare\.com")
CONNECTED = re.compile(r"Registered tunnel connection")
# A named tunnel's host name: two labels at least, the last one not numeric.
DNS_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    re.IGNORECASE,
)


def cloudflared() -> str:
    return str(settings.TUNNEL_CLOUDFLARED_BINARY)


class CloudflareApi:
    """A small client of the Cloudflare v4 API, authenticated by a token."""

    def __init__(self, token: str) -> None:
        self.base = settings.TUNNEL_CLOUDFLARE_API_URL.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self.session.request(
                method,
                self.base + path,
                json=body,
                timeout=settings.TUNNEL_API_TIMEOUT_SECONDS,
            )
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise TunnelFailed(
                f"Cloudflare's API did not answer {method} {path}: "
                f"{exc.__class__.__name__}; try again later."
            ) from exc
        if not answer.get("success"):
            errors = "; ".join(
                f"{e.get('code', '?')} {e.get('message', '')}"
                for e in answer.get("errors") or []
            )
            raise TunnelFailed(
                f"Cloudflare refused {method} {path} (HTTP "
                f"{response.status_code}): {errors or 'no reason given'}."
            )
        return answer.get("result")

    def create_tunnel(self, account: str, name: str) -> dict[str, Any]:
        body = {"name": name, "config_src": "cloudflare"}
        return dict(self.call("POST", f"/accounts/{account}/cfd_tunnel", body))

    def set_ingress(
        self, account: str, tunnel_id: str, hostname: str, url: str
    ) -> None:
        ingress = [
            {"hostname": hostname, "service": url},
            {"service": "http_status:404"},
        ]
        self.call(
            "PUT",
            f"/accounts/{account}/cfd_tunnel/{tunnel_id}/configurations",
            {"config": {"ingress": ingress}},
        )

    def tunnel_token(self, account: str, tunnel_id: str) -> str:
        return str(
            self.call("GET", f"/accounts/{account}/cfd_tunnel/{tunnel_id}/token")
        )

    def create_cname(self, zone: str, hostname: str, tunnel_id: str) -> str:
        body = {
            "type": "CNAME",
            "name": hostname,
            "content": f"{tunnel_id}.cfargotunnel.com",
            "proxied": True,
            "comment": "created by DockPilot",
        }
        return str(self.call("POST", f"/zones/{zone}/dns_records", body)["id"])

    def delete_dns_record(self, zone: str, record_id: str) -> None:
        self.call("DELETE", f"/zones/{zone}/dns_records/{record_id}")

    def delete_tunnel(self, account: str, tunnel_id: str) -> None:
        self.call("DELETE", f"/accounts/{account}/cfd_tunnel/{tunnel_id}")


class QuickTunnel(TunnelProvider):
    """A trycloudflare.com address, no account needed."""

    runners = ("process", "sidecar")

    def launch(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target
    ) -> Launch:
        argv = [cloudflared(), "tunnel", "--no-autoupdate", "--url", target.url]
        return Launch(argv, ready=first_match(QUICK_URL))


class NamedTunnel(TunnelProvider):
    """A tunnel of the user's account, reached at their own hostname."""

    runners = ("process", "sidecar")

    def prepare(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target, emit: Emit
    ) -> None:
        api = CloudflareApi(secrets["token"])
        account, zone = tunnel.options["account_id"], tunnel.options["zone_id"]
        if not tunnel.created_at_provider.get("tunnel_id"):
            created = api.create_tunnel(account, f"dockpilot-{tunnel.name}")
            self._remember(tunnel, tunnel_id=created["id"])
            emit(f"created Cloudflare tunnel {created['id']}")
        tunnel_id = tunnel.created_at_provider["tunnel_id"]
        api.set_ingress(account, tunnel_id, tunnel.hostname, target.url)
        emit(f"ingress of {tunnel.hostname} set to the container")
        if not tunnel.created_at_provider.get("dns_record_ids"):
            record = api.create_cname(zone, tunnel.hostname, tunnel_id)
            self._remember(tunnel, dns_record_ids=[record])
            emit(f"created DNS record {record} for {tunnel.hostname}")
        secrets["tunnel_token"] = api.tunnel_token(account, tunnel_id)

    def _remember(self, tunnel: TunnelConfig, **created: Any) -> None:
        # Saved at once: a failure further on must still leave teardown
        # knowing everything that exists at Cloudflare because of us.
        tunnel.created_at_provider = {**tunnel.created_at_provider, **created}
        TunnelConfig.objects.filter(pk=tunnel.pk).update(
            created_at_provider=tunnel.created_at_provider
        )

    def launch(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target
    ) -> Launch:
        token = secrets["tunnel_token"]
        argv = [cloudflared(), "tunnel", "--no-autoupdate", "run"]
        url = f"https://{tunnel.hostname}"
        return Launch(
            argv,
            ready=lambda text: url if CONNECTED.search(text) else None,
            env={"TUNNEL_TOKEN": token},
            secrets=[token, secrets["token"]],
        )

    def teardown(self, tunnel: TunnelConfig, secrets: dict[str, str]) -> None:
        made = dict(tunnel.created_at_provider)
        if not made:
            return
        api = CloudflareApi(secrets["token"])
        zone, account = tunnel.options["zone_id"], tunnel.options["account_id"]
        for record in list(made.get("dns_record_ids") or []):
            api.delete_dns_record(zone, record)
            made["dns_record_ids"].remove(record)
            self._remember_only(tunnel, made)
        if made.get("tunnel_id"):
            api.delete_tunnel(account, made["tunnel_id"])
            logger.info("deleted Cloudflare tunnel %s", made["tunnel_id"])
        self._remember_only(tunnel, {})

    def _remember_only(self, tunnel: TunnelConfig, made: dict[str, Any]) -> None:
        tunnel.created_at_provider = dict(made)
        TunnelConfig.objects.filter(pk=tunnel.pk).update(created_at_provider=made)
