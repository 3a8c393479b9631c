"""Engine calls that stream progress for minutes: pulls and builds.

The SDK's ``pull`` and ``build`` hide the HTTP response, so they cannot be
stopped. Here the response is kept: cutting its socket (``shutdown``, which
also wakes a thread blocked reading it) closes the connection, and the
engine then aborts the pull or build, as it does when ``docker pull`` is
interrupted.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from .engine import Engine, translate_errors

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("dockpilot.containers.longcalls")


def registry_auth_header(auth: dict[str, str]) -> str:
    """The X-Registry-Auth value: base64url of the JSON login."""
    return base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()


def registry_config_header(auths: dict[str, dict[str, str]]) -> str:
    """The X-Registry-Config value of a build: logins keyed by registry."""
    return base64.urlsafe_b64encode(json.dumps(auths).encode()).decode()


class EngineStream:
    """One streaming engine response, read as JSON messages, cut on demand."""

    def __init__(self, engine: Engine, response: requests.Response) -> None:
        self.engine = engine
        self.response = response
        self._socket: Any = None
        with contextlib.suppress(Exception):
            raw = engine.api._get_raw_response_socket(response)
            # Over a unix socket the SDK hands back the SocketIO wrapper.
            self._socket = getattr(raw, "_sock", raw)

    def messages(self) -> Iterator[dict[str, Any]]:
        with translate_errors(self.engine):
            yield from self.engine.api._stream_helper(self.response, decode=True)

    def cut(self) -> None:
        """Close the connection from any thread; the engine stops the work."""
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.response.close()


def open_stream(
    engine: Engine,
    path: str,
    *,
    params: Any,
    headers: dict[str, str] | None = None,
    data: IO[bytes] | None = None,
) -> EngineStream:
    """POST ``path`` and return its streamed response; refusals raise at once.

    No read timeout: a build step may print nothing for many minutes, and a
    stuck call is ended by canceling the job.
    """
    try:
        with translate_errors(engine):
            response = engine.api._post(
                engine.url(path),
                params=params,
                headers=headers or {},
                data=data,
                stream=True,
                timeout=None,
            )
            engine.api._raise_for_status(response)
    finally:
        engine.changed()
    return EngineStream(engine, response)
