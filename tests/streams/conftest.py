"""Helpers for the WebSocket stream tests: an app, clients, quick settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from dockpilot.routing import websocket_application

ORIGIN = "http://127.0.0.1:8000"
HOST = "127.0.0.1:8000"


def application() -> Any:
    # The same stack as dockpilot.asgi, without its start-up side effects.
    return websocket_application()


def token_for(user: Any) -> str:
    return str(RefreshToken.for_user(user).access_token)


class Socket:
    """A WebsocketCommunicator that acknowledges what it reads."""

    def __init__(
        self,
        path: str,
        *,
        token: str | None = None,
        origin: str | None = ORIGIN,
        host: str | None = HOST,
        subprotocols: list[str] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        ack: bool = True,
    ) -> None:
        all_headers = list(headers or [])
        if origin:
            all_headers.append((b"origin", origin.encode()))
        # As a browser does: the Host the page was served from.
        if host:
            all_headers.append((b"host", host.encode()))
        if token is not None:
            subprotocols = ["dockpilot", f"bearer.{token}"]
        self.communicator = WebsocketCommunicator(
            application(), path, headers=all_headers, subprotocols=subprotocols
        )
        self.ack = ack
        self.received = 0
        self.close_code: int | None = None

    async def open(self) -> tuple[bool, Any]:
        return await self.communicator.connect(timeout=10)

    async def next(self, timeout: float = 10) -> Any:
        """The next message (dict or bytes); None once the socket closed."""
        if self.close_code is not None:
            return None
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code", 1000)
            return None
        self.received += 1
        if self.ack:
            await self.send({"type": "ack", "seq": self.received})
        if output.get("bytes") is not None:
            return output["bytes"]
        return orjson.loads(output["text"])

    async def send(self, message: Any) -> None:
        await self.communicator.send_to(text_data=orjson.dumps(message).decode())

    async def until(
        self, found: Callable[[list[Any]], bool], timeout: float = 20
    ) -> list[Any]:
        """Messages read until ``found(messages)`` holds or the socket closes."""
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        while not found(messages):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; got {messages[-5:]}")
            try:
                message = await self.next(timeout=left)
            except TimeoutError:
                raise AssertionError(f"timed out; got {messages[-5:]}") from None
            if message is None:
                break
            messages.append(message)
        return messages

    async def closed(self, timeout: float = 10) -> int | None:
        """Read until the server closes; return its close code."""
        deadline = time.monotonic() + timeout
        while self.close_code is None and time.monotonic() < deadline:
            try:
                await self.next(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
        return self.close_code

    async def leave(self) -> None:
        await self.communicator.disconnect()


def lines_of(messages: list[Any]) -> list[dict[str, Any]]:
    return [
        line
        for message in messages
        if isinstance(message, dict) and message.get("type") == "log"
        for line in message["lines"]
    ]


def texts(messages: list[Any]) -> list[str]:
    return [line["text"] for line in lines_of(messages)]


def has_text(text: str) -> Callable[[list[Any]], bool]:
    return lambda messages: text in texts(messages)


def has_type(kind: str) -> Callable[[list[Any]], bool]:
    return lambda messages: any(
        isinstance(m, dict) and m.get("type") == kind for m in messages
    )


async def settle(seconds: float = 0.2) -> None:
    await asyncio.sleep(seconds)


@pytest.fixture(autouse=True)
def _quick_streams(settings: Any) -> None:
    settings.WS_RECHECK_SECONDS = 0.3
    settings.WS_AUTH_TIMEOUT_SECONDS = 2


@pytest.fixture
def make_container(make_container: Any, operator_user: Any, viewer_user: Any) -> Any:
    """Containers the stream tests make belong to the operator; the viewer may look.

    Streams decide through the access module, so an unowned container would
    be visible to admins only (tests/streams/test_stream_access.py covers that).
    """
    from guardian.shortcuts import assign_perm

    from apps.accounts import access
    from apps.containers.environments import default_environment

    def _make(name: str, *args: Any, **kwargs: Any) -> str:
        kwargs.setdefault("owner", operator_user)
        ident = make_container(name, *args, **kwargs)
        row = access.ownership(default_environment(), "container", ident)
        if row is not None:
            assign_perm("containers.view_resourceownership", viewer_user, row)
        return ident

    return _make
