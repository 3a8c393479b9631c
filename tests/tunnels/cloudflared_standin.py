#!/usr/bin/env python3
"""A stand-in for the ``cloudflared`` program (the real one cannot be
installed here and Cloudflare cannot be reached).

It accepts exactly the calls the portal makes, as the real CLI takes them:

- ``cloudflared tunnel --no-autoupdate --url http://HOST:PORT``: a quick
  tunnel. The real program prints, on stderr, a box whose middle line is
  ``https://<words>.trycloudflare.com``; so does this one. It then asks the
  origin once (``GET /``) and logs the status, as the real one logs its
  first proxied request, and runs until SIGTERM.
- ``cloudflared tunnel --no-autoupdate run`` with the tunnel token in
  ``TUNNEL_TOKEN`` (or ``... run --token TOKEN``): a named tunnel. The token
  is base64 JSON ``{"a": account, "t": tunnel id, "s": secret}``, as the
  API's token endpoint gives it; a malformed one exits with status 1, as
  the real one refuses it. Once "connected" it logs ``Registered tunnel
  connection connIndex=0`` with the tunnel id, like the real INF line.

Anything else exits with status 2 and says so.
"""

import base64
import json
import os
import secrets
import signal
import sys
import time
import urllib.request


def log(text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sys.stderr.write(f"{stamp} {text}\n")
    sys.stderr.flush()


def quick(url: str) -> None:
    words = "-".join(
        secrets.choice(["alpha", "bravo", "delta", "echo"]) for _ in range(3)
    )
    public = f"https://{words}-{secrets.token_hex(2)}.trycloudflare.com"
    log("INF Requesting new quick Tunnel on trycloudflare.com...")
    log("INF +" + "-" * 60 + "+")
    log(
        "INF |  Your quick Tunnel has been created! Visit it at "
        "(it may take some time to be reachable):  |"
    )
    log(f"INF |  {public}  |")
    log("INF +" + "-" * 60 + "+")
    try:
        with urllib.request.urlopen(url + "/", timeout=5) as answer:
            log(f"INF origin {url} answered {answer.status}")
    except OSError as exc:
        log(f"ERR origin {url} unreachable: {exc}")


def named(token: str) -> None:
    try:
        claims = json.loads(base64.b64decode(token))
        tunnel_id = claims["t"]
    except (ValueError, KeyError, TypeError):
        log("ERR Provided Tunnel token is not valid.")
        sys.exit(1)
    log(f"INF Starting tunnel tunnelID={tunnel_id}")
    log(
        f"INF Registered tunnel connection connIndex=0 tunnelID={tunnel_id} "
        "location=test protocol=quic"
    )


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if (
        argv[:2] == ["tunnel", "--no-autoupdate"]
        and argv[2:3] == ["--url"]
        and len(argv) == 4
    ):
        quick(argv[3])
    elif argv[:3] == ["tunnel", "--no-autoupdate", "run"]:
        rest = argv[3:]
        token = rest[1] if rest[:1] == ["--token"] and len(rest) == 2 else None
        if token is None and not rest:
            token = os.environ.get("TUNNEL_TOKEN")
        if not token:
            log("ERR 'cloudflared tunnel run' requires a tunnel token")
            sys.exit(2)
        named(token)
    else:
        log(f"ERR the stand-in does not accept: {argv}")
        sys.exit(2)
    # Bounded: a stand-in left behind by a broken test ends on its own.
    time.sleep(600)


if __name__ == "__main__":
    main(sys.argv[1:])
