"""The one place that talks to Docker engines.

It keeps one ``docker`` SDK client per environment (with timeouts and API
version negotiation) and turns engine errors into portal errors: not found
→ 404, conflict → 409 with the engine's reason, bad parameter → 400,
unreachable or timed out → 503 ``engine_unavailable``. Nothing else in the
project imports ``docker``.

The SDK (with ``requests``, about 7 MiB of the web process) is imported on
first use: on a local socket, reads (lists, inspects, logs, the version)
go through ``SocketReader`` and never need it; writes and tcp:// or ssh://
engines do.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import os
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import orjson
from django.conf import settings

from dockpilot.errors import (
    BadRequest,
    Conflict,
    EngineUnavailable,
    NotFound,
    PortalError,
)

from .models import Environment
from .socketreads import SocketReader

if TYPE_CHECKING:
    import docker
    import requests
    from docker import errors as docker_errors
    from docker.api.client import APIClient

logger = logging.getLogger("dockpilot.containers.engine")

LOCAL_SOCKET = "unix:///var/run/docker.sock"


class EngineError(PortalError):
    """The engine failed on its side (HTTP 5xx) for a reason it explained."""

    status_code = 502
    default_code = "engine_error"


def endpoint_of(environment: Environment) -> str:
    return (
        environment.endpoint
        or settings.DOCKER_HOST
        or os.environ.get("DOCKER_HOST", "")
        or LOCAL_SOCKET
    )


class Engine:
    """A connection to one environment's engine, shared by every request."""

    def __init__(self, environment: Environment) -> None:
        self.environment_id = environment.pk
        self.environment_name = environment.name
        self.endpoint = endpoint_of(environment)
        self._client: docker.DockerClient | None = None
        self._reader: SocketReader | None = None
        self._version: str | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        # Created lazily: with the engine down at start-up, the next request
        # tries again instead of the portal holding a dead client forever.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    @property
    def api(self) -> APIClient:
        return self.client.api

    def _connect(self) -> docker.DockerClient:
        import docker

        with translate_errors(self):
            client = docker.DockerClient(
                base_url=self.endpoint,
                version="auto",
                timeout=settings.DOCKER_READ_TIMEOUT,
            )
        logger.info(
            "connected to engine %s at %s (API %s)",
            self.environment_name,
            self.endpoint,
            client.api.api_version,
        )
        return client

    def url(self, path: str, *args: str) -> str:
        """The versioned URL of an engine path; ``args`` are quoted into it."""
        reader = self._socket_reader()
        if reader is None:
            return self.api._url(path, *args)
        # As the SDK builds it; only the path reaches the socket.
        quoted = (quote(arg, safe="/:") for arg in args)
        return f"http+docker://localhost/v{self.api_version()}{path.format(*quoted)}"

    def api_version(self) -> str:
        """The engine's API version, asked once (as the SDK's "auto" does)."""
        if self._version is None:
            reader = self._socket_reader()
            if reader is None:
                self._version = str(self.api.api_version)
            else:
                document = orjson.loads(self._read(reader, "/version", None))
                self._version = str(document["ApiVersion"])
        return self._version

    def version(self) -> dict[str, Any]:
        """The engine's ``/version`` document (unversioned, so any engine answers)."""
        reader = self._socket_reader()
        if reader is None:
            with translate_errors(self):
                return dict(self.api.version(api_version=False))
        return dict(orjson.loads(self._read(reader, "/version", None)))

    def get_json(self, path: str, *args: str, params: Any = None) -> Any:
        """GET an engine path and decode it with orjson (lists are large)."""
        return orjson.loads(self.get_bytes(path, *args, params=params))

    def get_bytes(self, path: str, *args: str, params: Any = None) -> bytes:
        url = self.url(path, *args)
        reader = self._socket_reader()
        if reader is None:
            with translate_errors(self):
                response = self.api._get(url, params=params)
                self.api._raise_for_status(response)
            return response.content
        return self._read(reader, url, params)

    def _socket_reader(self) -> SocketReader | None:
        # Only for a local socket; tcp:// and ssh:// go through the SDK.
        if self._reader is None and self.endpoint.startswith("unix://"):
            self._reader = SocketReader(
                self.endpoint.removeprefix("unix://"), settings.DOCKER_READ_TIMEOUT
            )
        return self._reader

    def _read(self, reader: SocketReader, url: str, params: Any) -> bytes:
        try:
            status, body = reader.get(url, params)
        except (OSError, http.client.HTTPException) as exc:
            raise _unavailable(self, exc) from exc
        if status >= 400:
            raise error_for_status(status, _explanation(body))
        return body

    def post(
        self,
        path: str,
        *args: str,
        params: Any = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        """POST and return the response; 304 (nothing to do) is left to the caller."""
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["json"] = json
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            with translate_errors(self):
                response = self.api._post(self.url(path, *args), **kwargs)
                self.api._raise_for_status(response)
        finally:
            self.changed()
        return response

    def changed(self) -> None:
        """Say that the portal asked this engine to change something.

        Inspect documents and log tails kept for quick reads are dropped
        (see ``documentcache`` and ``logtails``), so the next read shows the
        change.
        """
        from . import documentcache, logtails  # they import this module

        documentcache.changed(self.endpoint)
        logtails.changed(self.endpoint)

    def path_exists(self, container: str, path: str) -> bool:
        """Whether ``path`` exists in a container (a HEAD of its archive)."""
        with translate_errors(self):
            response = self.api.head(
                self.url("/containers/{0}/archive", container), params={"path": path}
            )
        return response.status_code == 200

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an ``APIClient`` method with engine errors translated."""
        try:
            with translate_errors(self):
                return getattr(self.api, method)(*args, **kwargs)
        finally:
            self.changed()


def filters_param(**filters: str | bool | list[str] | None) -> dict[str, str]:
    """The engine's ``filters`` query parameter; empty filters are left out.

    A text becomes a one-item list and a boolean "true" or "false", as the
    engine's list endpoints read them.
    """
    encoded: dict[str, list[str]] = {}
    for name, value in filters.items():
        if isinstance(value, bool):
            encoded[name] = ["true" if value else "false"]
        elif isinstance(value, str) and value:
            encoded[name] = [value]
        elif isinstance(value, list) and value:
            encoded[name] = value
    return {"filters": orjson.dumps(encoded).decode()} if encoded else {}


_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(environment: Environment) -> Engine:
    key = (environment.pk, endpoint_of(environment))
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.setdefault(key, Engine(environment))
    return engine


def forget_engines() -> None:
    """Drop cached clients (tests, or after an environment's endpoint changed)."""
    with _engines_lock:
        for engine in _engines.values():
            if engine._client is not None:
                engine._client.close()
            if engine._reader is not None:
                engine._reader.close()
        _engines.clear()


def _plain_reason(exc: BaseException) -> str:
    """Say in a few words why a connection failed, from the root cause."""
    timeouts: tuple[type[BaseException], ...] = (TimeoutError,)
    if "requests" in sys.modules:
        timeouts += (sys.modules["requests"].exceptions.Timeout,)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FileNotFoundError):
            return "no engine socket at that path"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, timeouts):
            return "timed out"
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                current = arg
                break
        else:
            current = current.__cause__ or current.__context__
    return str(exc).split("(Caused by")[0].strip() or exc.__class__.__name__


def _unavailable(engine: Engine | None, exc: Exception) -> EngineUnavailable:
    where = f" at {engine.endpoint}" if engine else ""
    name = f" '{engine.environment_name}'" if engine else ""
    reason = _plain_reason(exc)
    logger.warning("engine%s%s unreachable: %s", name, where, reason)
    return EngineUnavailable(
        f"The Docker engine{name}{where} cannot be reached ({reason}). Start the "
        "engine or fix the environment's endpoint, then retry.",
        details={
            "environment": engine.environment_name if engine else None,
            "reason": reason,
        },
    )


_CONFLICT_TEXTS = (
    "port is already allocated",
    "address already in use",
    "is not paused",
)


def _explanation(body: bytes) -> str:
    try:
        return str(orjson.loads(body).get("message", "")).strip()
    except (orjson.JSONDecodeError, AttributeError):
        return body.decode("utf-8", "replace").strip()


def _from_api_error(exc: docker_errors.APIError) -> PortalError:
    reason = exc.explanation or str(exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return error_for_status(exc.status_code or 500, reason.strip())


def error_for_status(status: int, reason: str) -> PortalError:
    """The portal error for an engine answer with this status and reason."""
    if status == 404:
        return NotFound(reason)
    if status in (409, 403):
        # The engine answers 403 for "network has active endpoints" and for
        # removing a predefined network: both are conflicts with state.
        return Conflict(reason)
    if 400 <= status < 500:
        return BadRequest(reason, code="engine_refused")
    if any(text in reason for text in _CONFLICT_TEXTS):
        # A published port that is taken, or unpausing a container that is
        # not paused, comes back as a 500, yet the user can resolve it.
        return Conflict(reason)
    logger.warning("engine error %s: %s", status, reason)
    return EngineError(reason)


@contextmanager
def translate_errors(engine: Engine | None = None) -> Iterator[None]:
    """Turn SDK and transport errors into the portal's errors."""
    try:
        yield
    except PortalError:
        raise
    except Exception as exc:
        translated = _translated(engine, exc)
        if translated is None:
            raise
        raise translated from exc


def _translated(engine: Engine | None, exc: Exception) -> PortalError | None:
    # Imported here: an SDK error means the SDK is loaded already.
    import requests
    from docker import errors as docker_errors

    if isinstance(exc, docker_errors.APIError):
        return _from_api_error(exc)
    if isinstance(exc, docker_errors.InvalidArgument | docker_errors.InvalidVersion):
        return BadRequest(str(exc), code="invalid_argument")
    if isinstance(
        exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout
    ):
        return _unavailable(engine, exc)
    if isinstance(exc, docker_errors.DockerException):
        # Raised by the client constructor when /version cannot be fetched.
        return _unavailable(engine, exc)
    return None


# --- Long-lived streams, read straight off the engine's socket ------------
#
# The SDK's streaming generators block a thread and hand over one HTTP chunk
# (often one log line) at a time, at 2.5 times the cost of a raw read.
# Followed logs, stats, events and exec sessions instead read large blocks
# from an asyncio connection: the event loop never blocks on the engine.

_BLOCK = 64 * 1024
_MAX_ERROR_BODY = 64 * 1024


class ChunkedDecoder:
    """Undo HTTP/1.1 chunked transfer encoding, fed blocks of any size."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._left = 0
        self._crlf = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer
        buffer += data
        out = bytearray()
        pos, size = 0, len(buffer)
        while not self.done:
            if self._left:
                take = min(self._left, size - pos)
                out += buffer[pos : pos + take]
                pos += take
                self._left -= take
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                if size - pos < 2:
                    break
                pos, self._crlf = pos + 2, False
            end = buffer.find(b"\r\n", pos)
            if end < 0:
                if size - pos > 1024:
                    raise ValueError("malformed chunked body from the engine")
                break
            length = int(bytes(buffer[pos:end]).split(b";")[0], 16)
            pos = end + 2
            if length == 0:
                self.done = True
            self._left = length
        del buffer[:pos]
        return bytes(out)


@dataclass
class RawResponse:
    """An engine answer whose body is read as it comes (or an upgraded socket)."""

    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    early: bytes = b""
    decoder: ChunkedDecoder | None = None
    length: int | None = None
    _read: int = field(default=0, init=False)

    async def read(self) -> bytes:
        """The next piece of the body; ``b""`` once it has ended."""
        while True:
            data, self.early = self.early, b""
            if not data:
                if self.decoder is not None and self.decoder.done:
                    return b""
                if self.length is not None and self._read >= self.length:
                    return b""
                data = await self.reader.read(_BLOCK)
                if not data:
                    return b""
            if self.decoder is not None:
                data = self.decoder.feed(data)
            self._read += len(data)
            if data or (self.decoder is not None and self.decoder.done):
                return data

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self) -> None:
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


def _tls_context(api: APIClient) -> ssl.SSLContext:
    verify = getattr(api, "verify", True)
    context = ssl.create_default_context(
        cafile=verify if isinstance(verify, str) else None
    )
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = getattr(api, "cert", None)
    if isinstance(cert, tuple):
        context.load_cert_chain(*cert)
    elif cert:
        context.load_cert_chain(cert)
    return context


async def _open_socket(
    engine: Engine,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    scheme, _, rest = engine.endpoint.partition("://")
    if scheme == "unix":
        return await asyncio.open_unix_connection("/" + rest.lstrip("/"))
    if scheme in ("tcp", "http", "https"):
        location = urlsplit(f"//{rest}")
        secure = engine.api.base_url.startswith("https")
        return await asyncio.open_connection(
            location.hostname,
            location.port or (2376 if secure else 2375),
            ssl=_tls_context(engine.api) if secure else None,
        )
    raise BadRequest(
        f"live streams need a unix:// or tcp:// engine endpoint; environment "
        f"'{engine.environment_name}' uses {scheme}://.",
        code="stream_unsupported",
    )


def _request_head(method: str, target: str, body: bytes | None, upgrade: bool) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: docker", "User-Agent: dockpilot"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    if upgrade:
        lines += ["Connection: Upgrade", "Upgrade: tcp"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _raise_for_answer(response: RawResponse) -> None:
    body = bytearray()
    while len(body) < _MAX_ERROR_BODY:
        data = await response.read()
        if not data:
            break
        body += data
    response.close()
    try:
        reason = str(orjson.loads(body).get("message", ""))
    except (orjson.JSONDecodeError, AttributeError):
        reason = body.decode("utf-8", "replace")
    raise error_for_status(response.status, reason.strip() or f"HTTP {response.status}")


async def open_stream(
    engine: Engine,
    method: str,
    path: str,
    *args: str,
    params: dict[str, Any] | None = None,
    json: Any = None,
    upgrade: bool = False,
) -> RawResponse:
    """Send one request over a new connection and return the answer unread.

    With ``upgrade`` (exec start) the engine answers 101 and the connection
    becomes a raw two-way pipe. Engine errors become portal errors.
    """
    # Building the client negotiates the API version: a blocking call, once.
    url = await asyncio.to_thread(engine.url, path, *args)
    target = urlsplit(url).path + (f"?{urlencode(params)}" if params else "")
    body = orjson.dumps(json) if json is not None else None
    if method != "GET":
        engine.changed()
    try:
        reader, writer = await asyncio.wait_for(
            _open_socket(engine), settings.DOCKER_READ_TIMEOUT
        )
        writer.write(_request_head(method, target, body, upgrade) + (body or b""))
        head = await asyncio.wait_for(
            reader.readuntil(b"\r\n\r\n"), settings.DOCKER_READ_TIMEOUT
        )
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        raise _unavailable(engine, exc) from exc

    status, headers = _parse_head(head)
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    length = headers.get("content-length")
    response = RawResponse(
        status,
        headers,
        reader,
        writer,
        decoder=ChunkedDecoder() if chunked and status != 101 else None,
        length=int(length) if length and not chunked else None,
    )
    if status >= 400:
        await _raise_for_answer(response)
    return response
