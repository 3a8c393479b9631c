"""A stand-in Cloudflare v4 API on a loopback port, keeping the real contract.

The endpoints the portal calls, with the bodies it sends, and nothing else
(anything else is 404 with ``success: false``):

- ``POST /accounts/{account}/cfd_tunnel`` ``{"name", "config_src":
  "cloudflare"}`` → the tunnel (``id``, ``name``, ``token``...);
- ``PUT /accounts/{account}/cfd_tunnel/{id}/configurations`` ``{"config":
  {"ingress": [...]}}`` → the configuration;
- ``GET /accounts/{account}/cfd_tunnel/{id}/token`` → the token, a string;
- ``DELETE /accounts/{account}/cfd_tunnel/{id}`` → the deleted tunnel;
- ``POST /zones/{zone}/dns_records`` ``{"type", "name", "content",
  "proxied"}`` → the record (``id``...);
- ``DELETE /zones/{zone}/dns_records/{id}`` → ``{"id"}``.

Every answer is ``{"success", "errors", "messages", "result"}``; a request
without ``Authorization: Bearer <the token>`` gets 403 and error 10000, as
the real API answers a bad token. Unknown accounts, zones, tunnels and
records are 404.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CloudflareState:
    def __init__(self, token: str, account: str, zone: str) -> None:
        self.token, self.account, self.zone = token, account, zone
        self.tunnels: dict[str, dict[str, Any]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []

    def add_record(self, name: str, content: str) -> str:
        record_id = uuid.uuid4().hex
        self.records[record_id] = {
            "id": record_id,
            "type": "A",
            "name": name,
            "content": content,
            "proxied": False,
        }
        return record_id


ROUTES = [
    ("POST", r"/accounts/(?P<account>\w+)/cfd_tunnel", "create_tunnel"),
    (
        "PUT",
        r"/accounts/(?P<account>\w+)/cfd_tunnel/(?P<tunnel>[-\w]+)/configurations",
        "put_config",
    ),
    (
        "GET",
        r"/accounts/(?P<account>\w+)/cfd_tunnel/(?P<tunnel>[-\w]+)/token",
        "get_token",
    ),
    (
        "DELETE",
        r"/accounts/(?P<account>\w+)/cfd_tunnel/(?P<tunnel>[-\w]+)",
        "delete_tunnel",
    ),
    ("POST", r"/zones/(?P<zone>\w+)/dns_records", "create_record"),
    ("DELETE", r"/zones/(?P<zone>\w+)/dns_records/(?P<record>\w+)", "delete_record"),
]


class NotThere(Exception):
    pass


def handlers(state: CloudflareState) -> dict[str, Any]:
    def account(match: dict[str, str]) -> None:
        if match.get("account") != state.account:
            raise NotThere("account")

    def tunnel(match: dict[str, str]) -> dict[str, Any]:
        account(match)
        if match["tunnel"] not in state.tunnels:
            raise NotThere("tunnel")
        return state.tunnels[match["tunnel"]]

    def zone(match: dict[str, str]) -> None:
        if match["zone"] != state.zone:
            raise NotThere("zone")

    def create_tunnel(match: dict[str, str], body: Any) -> Any:
        account(match)
        assert body["config_src"] == "cloudflare" and body["name"]
        tunnel_id = str(uuid.uuid4())
        token = base64.b64encode(
            json.dumps(
                {"a": state.account, "t": tunnel_id, "s": uuid.uuid4().hex}
            ).encode()
        ).decode()
        state.tunnels[tunnel_id] = {
            "id": tunnel_id,
            "name": body["name"],
            "status": "inactive",
            "remote_config": True,
            "token": token,
        }
        return state.tunnels[tunnel_id]

    def put_config(match: dict[str, str], body: Any) -> Any:
        tunnel(match)
        assert isinstance(body["config"]["ingress"], list)
        state.configs[match["tunnel"]] = body["config"]
        return {"tunnel_id": match["tunnel"], "config": body["config"], "version": 1}

    def get_token(match: dict[str, str], body: Any) -> Any:
        return tunnel(match)["token"]

    def delete_tunnel(match: dict[str, str], body: Any) -> Any:
        tunnel(match)
        state.configs.pop(match["tunnel"], None)
        return state.tunnels.pop(match["tunnel"])

    def create_record(match: dict[str, str], body: Any) -> Any:
        zone(match)
        assert (
            body["type"] in ("A", "AAAA", "CNAME") and body["name"] and body["content"]
        )
        record_id = uuid.uuid4().hex
        state.records[record_id] = {"id": record_id, **body}
        return state.records[record_id]

    def delete_record(match: dict[str, str], body: Any) -> Any:
        zone(match)
        if match["record"] not in state.records:
            raise NotThere("record")
        del state.records[match["record"]]
        return {"id": match["record"]}

    return {name: fn for name, fn in locals().items() if callable(fn)}


class StandInCloudflare:
    def __init__(self, state: CloudflareState) -> None:
        self.state = state
        actions = handlers(state)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(
                self, status: int, result: Any = None, errors: Any = ()
            ) -> None:
                body = json.dumps(
                    {
                        "success": status < 400,
                        "errors": list(errors),
                        "messages": [],
                        "result": result,
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                state.calls.append((self.command, self.path))
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    self._answer(
                        403, errors=[{"code": 10000, "message": "Authentication error"}]
                    )
                    return
                for method, pattern, name in ROUTES:
                    found = re.fullmatch("/client/v4" + pattern, self.path)
                    if method == self.command and found:
                        try:
                            result = actions[name](
                                found.groupdict(), json.loads(raw) if raw else None
                            )
                        except NotThere as exc:
                            self._answer(
                                404,
                                errors=[{"code": 1003, "message": f"{exc} not found"}],
                            )
                            return
                        self._answer(200, result)
                        return
                self._answer(
                    404, errors=[{"code": 7003, "message": "No route for that URI"}]
                )

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/client/v4"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
