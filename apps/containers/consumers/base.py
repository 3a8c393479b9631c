"""What every live stream shares: who may watch, flow control, closing.

A connection is accepted, then authenticated (session cookie, a token
offered as a subprotocol, or a first ``auth`` message), then authorized
for its container; until both pass nothing is sent, and a refusal closes
with 4000 + the HTTP status the REST API would answer (4401, 4403, 4404).
Access is checked again every few seconds: a deactivated user or a revoked
grant closes the socket.

Daphne writes whatever the application sends into an unbounded transport
buffer, so a client must acknowledge what it read: every message carries a
``seq`` (binary terminal frames are numbered too, by count) and the client
sends ``{"type": "ack", "seq": n}``. Past the window the server stops
sending, and a shared stream's watcher skips ahead instead.

Known shortcoming: the consumers' database calls (``database_sync_to_async``)
all run on one thread of the process, the checks every few seconds
included, and some of them ask the engine: an engine slow to answer delays
every stream's checks and new connections with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from rest_framework import exceptions

from apps.accounts import access
from apps.accounts.models import User
from apps.accounts.ws_auth import (
    CLOSE_UNAUTHENTICATED,
    SUBPROTOCOL,
    credential_still_valid,
    first_message_user,
    offered_token,
)
from dockpilot.errors import NotFound, PortalError

from ..engine import engine_for
from ..models import Environment

logger = logging.getLogger("dockpilot.containers.consumers")

ACTION_VERBS = {"logs": "view", "stats": "view", "events": "view", "exec": "operate"}
CLOSE_NORMAL = 1000
CLOSE_INTERNAL = 1011


@dataclass(frozen=True)
class Target:
    """The container a stream is about, as the engine described it."""

    id: str
    name: str
    tty: bool
    running: bool
    user: str = ""


def authorize(
    user: Any, environment: Environment, container_id: str | None, action: str
) -> Target | None:
    """Decide whether ``user`` may ``action`` a container (through access).

    Reading logs, stats and events needs ``view``; a terminal needs
    ``operate``. A container the user cannot see is not found, exactly as
    on the REST routes. Raises the REST API's exceptions; returns the
    container as the engine describes it.
    """
    if not (user and user.is_authenticated and user.is_active):
        raise exceptions.NotAuthenticated("Log in again: this account is not active.")
    verb = ACTION_VERBS.get(action)
    if verb is None:
        raise exceptions.PermissionDenied(f"unknown stream action '{action}'")
    if container_id is None:
        access.require_environment(user, environment, verb)
        return None

    engine_id = access.check(user, environment, "container", container_id, verb)
    document = engine_for(environment).get_json("/containers/{0}/json", engine_id)
    config = document.get("Config") or {}
    return Target(
        id=document["Id"],
        name=str(document.get("Name", "")).lstrip("/"),
        tty=bool(config.get("Tty")),
        running=bool((document.get("State") or {}).get("Running")),
        user=str(config.get("User") or ""),
    )


# Engine event types and the access kind that decides who sees them.
_EVENT_KINDS = {
    "container": "container",
    "volume": "volume",
    "network": "network",
    "image": "image",
}


def event_visible(user: Any, environment: Environment, event: dict[str, Any]) -> bool:
    """Whether an engine event may be shown to ``user``: its object is visible.

    Runs a database query: call it through ``database_sync_to_async``.
    """
    if not (user and user.is_active):
        return False
    if event.get("kind") == "engine":
        return True  # the engine lost or back: news for every watcher
    kind = _EVENT_KINDS.get(str(event.get("kind") or ""))
    ident = str(event.get("id") or "")
    if kind is None or not ident:
        return access.is_admin(user)
    return bool(access.visible(user, environment, kind, [ident]))


class _Gone(Exception):
    """The container was removed: the stream itself reports that."""


def container_exists(environment: Environment, ident: str) -> bool:
    try:
        engine_for(environment).get_json("/containers/{0}/json", ident)
    except NotFound:
        return False
    return True


def close_code_for(exc: Exception) -> int:
    status = getattr(exc, "status_code", 500)
    return 4000 + status if 400 <= status < 600 else CLOSE_INTERNAL


def error_body(exc: Exception) -> dict[str, Any]:
    code = getattr(exc, "code", None) or getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", None) or str(exc)
    if isinstance(detail, list | dict):
        detail = orjson.dumps(detail).decode()
    return {"code": str(code), "message": str(detail)}


def ws_setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


class CreditWindow:
    """Messages sent and not yet acknowledged, bounded by count and bytes."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.sent = 0
        self.acked = 0
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._opened = asyncio.Event()

    def _full(self, size: int) -> bool:
        # One message always goes out, however large, or nothing ever would.
        unacked = self.sent - self.acked
        return unacked > 0 and (
            unacked >= self.max_messages or self._bytes + size > self.max_bytes
        )

    async def reserve(self, size: int) -> int:
        """Wait for room for a message of ``size`` bytes; return its seq."""
        while self._full(size):
            self._opened.clear()
            await self._opened.wait()
        self.sent += 1
        self._sizes.append(size)
        self._bytes += size
        return self.sent

    def bypass(self) -> int:
        """Number a message sent without waiting for room."""
        self.sent += 1
        self._sizes.append(0)
        return self.sent

    def ack(self, seq: int) -> None:
        seq = min(seq, self.sent)
        while self.acked < seq:
            self.acked += 1
            self._bytes -= self._sizes.popleft()
        self._opened.set()


class StreamConsumer(AsyncWebsocketConsumer):
    """Authenticates, authorizes, then runs ``stream()`` until it ends."""

    action = "logs"
    needs_container = True

    async def connect(self) -> None:
        # Set once authenticated (authorization follows): later messages are
        # the stream's, earlier ones can only be the auth message.
        found = self.scope.get("user")
        self.user: User | None = found if found and found.is_authenticated else None
        # The credential is checked again while the socket lives: a token
        # offered as a subprotocol (or in the first message), else the session.
        self.token: str | None = offered_token(self.scope)
        self.target: Target | None = None
        self.closed = False
        self.window = CreditWindow(
            int(ws_setting("WS_WINDOW_MESSAGES", 16)),
            int(ws_setting("WS_WINDOW_BYTES", 1024 * 1024)),
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._first: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        offered = self.scope.get("subprotocols") or []
        await self.accept(SUBPROTOCOL if SUBPROTOCOL in offered else None)
        self.spawn(self._begin())

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.cleanup()

    async def cleanup(self) -> None:
        """Release what a subclass holds once the socket is gone."""

    # --- the start of a connection -------------------------------------

    def query(self) -> dict[str, str]:
        raw = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return {key: values[-1] for key, values in raw.items()}

    async def _authenticate(self) -> User | None:
        if self.user is not None:
            return self.user
        if self.scope.get("auth_failed"):
            return None
        try:
            message = await asyncio.wait_for(
                self._first, ws_setting("WS_AUTH_TIMEOUT_SECONDS", 10)
            )
        except TimeoutError:
            return None
        if isinstance(message, dict) and isinstance(message.get("token"), str):
            self.token = message["token"]
        return await first_message_user(message)

    async def _begin(self) -> None:
        try:
            user = self.user = await self._authenticate()
            if user is None:
                await self.close(CLOSE_UNAUTHENTICATED)
                return
            self.environment = await database_sync_to_async(access.environment_for)(
                user, self.query().get("environment")
            )
            self.options = await database_sync_to_async(self.parse_options)(
                self.query()
            )
            if not await database_sync_to_async(self._credential_ok)():
                raise exceptions.PermissionDenied(
                    "This credential may only read: a terminal needs an API token "
                    "with the read,write scope, or a login."
                )
            self.target = await self._authorize(user)
            self.spawn(self._recheck())
            await self.stream()
        except (PortalError, exceptions.APIException) as exc:
            await self.refuse(exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s stream of %s failed", self.action, self.route_id())
            await self.close(CLOSE_INTERNAL)

    @property
    def container(self) -> Target:
        """The authorized container (streams run only after authorization)."""
        if self.target is None:
            raise RuntimeError(f"{self.action} stream has no authorized container")
        return self.target

    def route_id(self) -> str | None:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        ident = kwargs.get("container_id")
        return str(ident) if ident is not None else None

    async def _authorize(self, user: User) -> Target | None:
        ident = self.route_id() if self.needs_container else None
        return await database_sync_to_async(authorize)(
            user, self.environment, ident, self.action
        )

    def parse_options(self, query: dict[str, str]) -> Any:
        """Validate the stream's query options; raise BadRequest if wrong."""
        return None

    async def stream(self) -> None:
        raise NotImplementedError

    async def refuse(self, exc: Exception) -> None:
        """Tell an authenticated client why, then close with the matching code."""
        if self.closed:
            return
        code = close_code_for(exc)
        if code != CLOSE_UNAUTHENTICATED:
            await self.send(
                text_data=orjson.dumps({"type": "error", **error_body(exc)}).decode()
            )
        await self.close(code)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if not self.closed:
            self.closed = True
            await super().close(code)

    async def _recheck(self) -> None:
        # A grant revoked or a user deactivated closes the socket within a
        # few seconds. The container's own fate (removed) is the stream's to
        # tell, with a clearer message, so not found is left to it here.
        interval = ws_setting("WS_RECHECK_SECONDS", 5)
        while not self.closed:
            await asyncio.sleep(interval)
            try:
                await database_sync_to_async(self._reauthorize)()
            except _Gone:
                continue
            except PortalError as exc:
                if exc.status_code == 503:
                    continue
                await self.refuse(exc)
                return
            except exceptions.APIException as exc:
                await self.refuse(exc)
                return

    def _credential_ok(self) -> bool:
        method = "POST" if ACTION_VERBS.get(self.action) == "operate" else "GET"
        return credential_still_valid(self.scope, self.token, method)

    def _reauthorize(self) -> None:
        # Logout, a password change or a revoked token ends the credential;
        # the socket must not outlive it.
        if not self._credential_ok():
            raise exceptions.NotAuthenticated(
                "Your session or token has ended: log in again."
            )
        user = User.objects.filter(pk=self.user.pk).first() if self.user else None
        ident = self.target.id if self.target else None
        try:
            authorize(user, self.environment, ident, self.action)
        except NotFound as exc:
            # Not found is either a removed container, which the stream tells
            # with a clearer message, or a grant revoked: then close.
            if ident is not None and not container_exists(self.environment, ident):
                raise _Gone() from exc
            raise
        self.user = user

    # --- messages --------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.user is None:
            if not self._first.done():
                self._first.set_result(_parse(text_data))
            return
        if bytes_data is not None:
            await self.on_bytes(bytes_data)
            return
        message = _parse(text_data)
        if not isinstance(message, dict):
            return
        if message.get("type") == "ack" and isinstance(message.get("seq"), int):
            self.window.ack(message["seq"])
        elif message.get("type") != "auth":
            await self.on_message(message)

    async def on_message(self, message: dict[str, Any]) -> None:
        """A JSON message other than ack; streams that read none ignore it."""

    async def on_bytes(self, data: bytes) -> None:
        """A binary message (terminal input)."""

    async def send_message(
        self, kind: str, body: dict[str, Any], *, last: bool = False
    ) -> None:
        """Send one JSON message of ``kind``, numbered, within the window.

        A ``last`` message (the end) goes out past the window: it is small,
        and a client that stopped reading must still be told and closed.
        """
        encoded = orjson.dumps(body)
        if last:
            seq = self.window.bypass()
        else:
            seq = await self.window.reserve(len(encoded))
        head = b'{"type":"%s","seq":%d' % (kind.encode(), seq)
        text = head + (b"," + encoded[1:] if len(encoded) > 2 else b"}")
        if not self.closed:
            await self.send(text_data=text.decode())

    async def send_raw(self, data: bytes) -> None:
        await self.window.reserve(len(data))
        if not self.closed:
            await self.send(bytes_data=data)

    async def finish(self, item: tuple[str, Any]) -> None:
        """Send a shared stream's last word (end or error), then close."""
        kind, body = item
        await self.send_message(kind, body, last=True)
        if kind == "error":
            await self.close(4503 if body.get("code") == "engine_unavailable" else 1011)
        else:
            await self.close(CLOSE_NORMAL)


def _parse(text: str | None) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
