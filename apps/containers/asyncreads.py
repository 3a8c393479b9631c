"""Plain GETs over the engine's unix socket, from the event loop.

``SocketReader`` serves the request threads; this serves code that runs on
Daphne's event loop (``quickreads``), where a blocking read would stall
every other request. Connections are kept alive and reused, and belong to
the loop that opened them: a new loop (a test's) starts a new pool.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings

from .engine import _parse_head

if TYPE_CHECKING:
    from .engine import Engine

_POOL_SIZE = 8
_BLOCK = 1024 * 1024
# How much an answer may wait in the connection's buffer before the engine is
# slowed down: large answers (a list of 1,000 containers is 600 KB) come in
# fewer, larger reads.
_BUFFER = 1024 * 1024
# An answer larger than this is not read here: the caller lets the request
# thread's reader (which has no such bound) take it.
MAX_BODY = 64 * 1024 * 1024

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class BodyTooLarge(Exception):
    """The engine's answer is larger than ``MAX_BODY``."""


class AsyncSocketReader:
    """GET requests on one engine socket for one event loop at a time."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        """Status and body of ``GET target`` (a path with its query).

        Raises ``OSError``, ``TimeoutError`` or ``asyncio.IncompleteReadError``
        when the engine cannot be reached or stops answering.
        """
        async with asyncio.timeout(self.timeout):
            kept = self._take()
            if kept is not None:
                try:
                    return await self._request(kept, target)
                except (ConnectionError, asyncio.IncompleteReadError):
                    # The engine closed an idle connection; a GET is safe to
                    # send again on a new one.
                    pass
            connection = await asyncio.open_unix_connection(
                self.socket_path, limit=_BUFFER
            )
            return await self._request(connection, target)

    def _take(self) -> _Connection | None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._idle = []  # another loop's connections cannot be used here
            self._loop = loop
        return self._idle.pop() if self._idle else None

    async def _request(self, connection: _Connection, target: str) -> tuple[int, bytes]:
        reader, writer = connection
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
            status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            body, reusable = await _read_body(reader, headers)
        except BaseException:
            writer.close()
            raise
        if reusable and len(self._idle) < _POOL_SIZE:
            self._idle.append(connection)
        else:
            writer.close()
        return status, body


_readers: dict[str, AsyncSocketReader] = {}


def reader_for(endpoint: str, timeout: float) -> AsyncSocketReader | None:
    """The shared reader of a ``unix://`` endpoint; None for any other kind."""
    if not endpoint.startswith("unix://"):
        return None
    path = endpoint.removeprefix("unix://")
    reader = _readers.get(path)
    if reader is None:
        reader = _readers.setdefault(path, AsyncSocketReader(path, timeout))
    return reader


async def engine_get(engine: Engine, path: str, params: dict[str, Any]) -> bytes | None:
    """The body of a GET that succeeded; None for anything else but a timeout.

    None too for an engine not on a local socket. A timeout raises
    ``TimeoutError``: the engine stopped answering.
    """
    reader = reader_for(engine.endpoint, settings.DOCKER_READ_TIMEOUT)
    if reader is None:
        return None
    query = urlencode(params)
    target = f"/v{engine._version}{path}" + (f"?{query}" if query else "")
    try:
        status, body = await reader.get(target)
    except TimeoutError:
        raise
    except (OSError, asyncio.IncompleteReadError, ValueError, BodyTooLarge):
        return None
    return body if status == 200 else None


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str]
) -> tuple[bytes, bool]:
    reusable = headers.get("connection", "").lower() != "close"
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, whole = await _read_chunked(reader)
        return body, reusable and whole
    length: Any = headers.get("content-length")
    if length is not None:
        if int(length) > MAX_BODY:
            raise BodyTooLarge(length)
        return await reader.readexactly(int(length)), reusable
    # Neither chunked nor of a given length: the body ends with the connection.
    until_close = bytearray()
    while data := await reader.read(_BLOCK):
        until_close += data
        if len(until_close) > MAX_BODY:
            raise BodyTooLarge(len(until_close))
    return bytes(until_close), False


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """The body, and whether the connection ends exactly after it.

    The whole answer is gathered first and its chunks found in one pass: a
    log answer comes as one chunk per line, and taking them apart block by
    block (as ``ChunkedDecoder`` does for followed streams) costs several
    times more.
    """
    buffer = bytearray()
    pieces: list[bytes] = []
    pos = total = 0
    while True:
        end = buffer.find(b"\r\n", pos)
        if end >= 0:
            size = int(bytes(buffer[pos:end]).split(b";")[0], 16)
            start = end + 2
            if size == 0 and len(buffer) >= start + 2:
                whole = len(buffer) == start + 2 and buffer[start:] == b"\r\n"
                return b"".join(pieces), whole
            if size and len(buffer) >= start + size + 2:
                pieces.append(bytes(buffer[start : start + size]))
                total += size
                if total > MAX_BODY:
                    raise BodyTooLarge(total)
                pos = start + size + 2
                continue
        elif len(buffer) - pos > 1024:
            raise ValueError("malformed chunked body from the engine")
        data = await reader.read(_BLOCK)
        if not data:
            raise asyncio.IncompleteReadError(bytes(buffer), None)
        buffer += data
