"""A small asyncio WebSocket client (RFC 6455), for tests against Daphne and bench/.

Only what a portal client needs: the handshake with headers and
subprotocols, text and binary messages, masking, close codes. Bounded
waits everywhere.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from typing import Any

import orjson


class Closed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.subprotocol: str | None = None
        self.received = 0

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str,
        *,
        origin: str | None = None,
        subprotocols: list[str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> WebSocket:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=16 * 1024 * 1024), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin:
            lines.append(f"Origin: {origin}")
        if subprotocols:
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            writer.close()
            raise Closed(status)
        socket = cls(reader, writer)
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "sec-websocket-protocol":
                socket.subprotocol = value.strip()
        return socket

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | size)
        elif size < 65536:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + masked

    async def send_json(self, message: Any) -> None:
        self.writer.write(self._frame(0x1, orjson.dumps(message)))
        await self.writer.drain()

    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(self._frame(0x2, data))
        await self.writer.drain()

    async def _read_frame(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack(">H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack(">Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    async def receive(self, timeout: float = 10) -> str | bytes:
        """The next text (str) or binary (bytes) message; Closed at a close."""
        while True:
            opcode, payload = await asyncio.wait_for(self._read_frame(), timeout)
            if opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if payload else None
                raise Closed(code)
            if opcode in (0x1, 0x2):
                self.received += 1
                return payload.decode() if opcode == 0x1 else payload
            # Pings (0x9) are answered by nothing here: Daphne does not need it.

    async def ack(self) -> None:
        await self.send_json({"type": "ack", "seq": self.received})

    async def close(self) -> None:
        try:
            self.writer.write(self._frame(0x8, struct.pack(">H", 1000)))
            await self.writer.drain()
        except OSError:
            pass
        self.writer.close()
