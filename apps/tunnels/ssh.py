"""SSH reverse tunnels: ``ssh -N -R`` to a server the user configures.

The server's host key is never trusted on first use. The user gives either
the server's public host key (a line of ``ssh-keyscan`` or a
``/etc/ssh/ssh_host_*_key.pub`` file) or its SHA256 fingerprint; with a
fingerprint, the keys the server offers are fetched and only one whose
fingerprint matches is written to the tunnel's own known_hosts file.
``StrictHostKeyChecking=yes`` then makes ssh refuse any other key. No user
or system ssh configuration, agent or known_hosts file is read.

Known limit: whoever may create a tunnel may point it at any SSH server the
worker's machine reaches; there is no allow-list of servers yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import subprocess
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from . import supervision
from .models import TunnelConfig
from .providers import Launch, TunnelFailed, TunnelProvider
from .targets import Target

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
KEY_LINE = re.compile(
    r"^(?:\S+ )?(?P<type>" + "|".join(map(re.escape, KEY_TYPES)) + r") "
    r"(?P<blob>[A-Za-z0-9+/]+={0,3})(?: .*)?$"
)
READY = re.compile(r"remote forward success for: listen (\S+)")


def fingerprint(blob: str) -> str:
    """OpenSSH's SHA256 fingerprint of a base64 public key blob."""
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_host_key(text: str) -> tuple[str, str] | None:
    """(type, blob) of a public key line, or None if it is not one."""
    found = KEY_LINE.match(text.strip())
    if not found:
        return None
    try:
        base64.b64decode(found["blob"], validate=True)
    except (binascii.Error, ValueError):
        return None
    return found["type"], found["blob"]


def valid_host_key(text: str) -> bool:
    return bool(FINGERPRINT.match(text.strip())) or parse_host_key(text) is not None


def private_key_problem(text: str) -> str:
    """What is wrong with a private key file's text, or "" if ssh can use it.

    It must parse as an OpenSSH or PEM private key without a passphrase; the
    answer never quotes the key.
    """
    data = text.strip().encode()
    try:
        if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
            serialization.load_ssh_private_key(data, password=None)
        else:
            serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return "this key has a passphrase: give a key without one."
    except (ValueError, UnsupportedAlgorithm):
        return (
            "this is not a private key ssh can read: give the whole OpenSSH or "
            "PEM private key file, from its BEGIN line to its END line."
        )
    return ""


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _scan(host: str, port: int) -> list[tuple[str, str]]:
    try:
        result = subprocess.run(  # noqa: S603 - fixed program, checked options
            [settings.TUNNEL_SSH_KEYSCAN_BINARY, "-T", "5", "-p", str(port), host],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TunnelFailed(
            f"cannot read the host keys of {host}:{port}: {exc}"
        ) from exc
    keys = []
    for line in result.stdout.splitlines():
        parsed = parse_host_key(line)
        if parsed:
            keys.append(parsed)
    return keys


def known_hosts(options: dict[str, Any]) -> str:
    """The known_hosts line for the server, from what the user gave."""
    host, port, given = options["host"], int(options["port"]), options["host_key"]
    pattern = host_pattern(host, port)
    parsed = parse_host_key(given)
    if parsed:
        return f"{pattern} {parsed[0]} {parsed[1]}"

    offered = _scan(host, port)
    for key_type, blob in offered:
        if fingerprint(blob) == given.strip():
            return f"{pattern} {key_type} {blob}"
    seen = ", ".join(f"{t} {fingerprint(b)}" for t, b in offered) or "none"
    raise TunnelFailed(
        f"the SSH server {host}:{port} offered no host key with fingerprint "
        f"{given.strip()} (it offered: {seen}); check the fingerprint with the "
        "server's administrator.",
        code="host_key_mismatch",
    )


class SshTunnel(TunnelProvider):
    """A port on the SSH server forwarded to the target container's port."""

    def launch(
        self, tunnel: TunnelConfig, secrets: dict[str, str], target: Target
    ) -> Launch:
        options = tunnel.options
        home = supervision.folder(tunnel.pk)
        key = supervision.write_private(home / "id_key", secrets["private_key"])
        hosts = supervision.write_private(home / "known_hosts", known_hosts(options))
        bind = options.get("remote_bind") or "127.0.0.1"
        keepalive = settings.TUNNEL_SSH_KEEPALIVE_SECONDS
        argv = [
            settings.TUNNEL_SSH_BINARY,
            "-N",
            "-T",
            "-v",
            "-F",
            "/dev/null",
            "-i",
            str(key),
            "-p",
            str(options["port"]),
            "-R",
            f"{bind}:{options['remote_port']}:{target.host}:{target.port}",
        ]
        for option in (
            "BatchMode=yes",
            "IdentitiesOnly=yes",
            "IdentityAgent=none",
            "StrictHostKeyChecking=yes",
            f"UserKnownHostsFile={hosts}",
            "GlobalKnownHostsFile=/dev/null",
            "CheckHostIP=no",
            "UpdateHostKeys=no",
            "ExitOnForwardFailure=yes",
            f"ServerAliveInterval={keepalive}",
            "ServerAliveCountMax=3",
            "TCPKeepAlive=yes",
            "ConnectTimeout=10",
        ):
            argv += ["-o", option]
        # After "--", nothing the user typed can be taken for an option.
        argv += ["--", f"{options['user']}@{options['host']}"]
        public = f"{options['host']}:{options['remote_port']}"
        return Launch(
            argv,
            ready=lambda text: public if READY.search(text) else None,
            secrets=[secrets["private_key"]],
        )
