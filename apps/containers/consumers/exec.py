"""``/ws/containers/<id>/exec/``: an interactive terminal in a running container.

Options (query string): ``command`` (split like a shell does; default
``bash`` when the image has it, else ``sh``), ``user``, ``workdir``,
``cols``, ``rows``. The client sends keystrokes as binary messages (or
``{"type": "input", "data": ...}``) and ``{"type": "resize", "cols": ..,
"rows": ..}``; the terminal's output comes back as binary messages, raw.
The last message is ``{"type": "end", "exit_code": n}``. Never privileged.
Opening and closing are audited with who, which container, which command
and how long.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from typing import Any

from channels.db import database_sync_to_async

from apps.audit.models import Action, Outcome
from apps.audit.services import record
from dockpilot.errors import BadRequest, Conflict

from ..engine import Engine, RawResponse, engine_for, open_stream
from ..policy import check_exec
from ..streams import read_body
from .base import StreamConsumer

_USER = re.compile(
    r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}(:[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63})?$"
)
_SIZE_LIMIT = 1000
EARLY_INPUT_LIMIT = 64 * 1024
BASH_PATHS = ("/bin/bash", "/usr/bin/bash")


def _size(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) <= _SIZE_LIMIT:
        raise BadRequest(
            f"{name}: give a whole number of characters from 1 to {_SIZE_LIMIT}.",
            details={"field": name},
        )
    return int(raw)


def parse_exec_options(query: dict[str, str]) -> dict[str, Any]:
    """The terminal's command, user, working directory and size, validated."""
    command = query.get("command", "").strip()
    try:
        argv = shlex.split(command) if command else []
    except ValueError as exc:
        raise BadRequest(f"command: {exc}.", details={"field": "command"}) from exc
    user = query.get("user", "")
    if user and not _USER.match(user):
        raise BadRequest(
            "user: give a user name or id, optionally with ':group'.",
            details={"field": "user"},
        )
    workdir = query.get("workdir", "")
    if workdir and (not workdir.startswith("/") or "\0" in workdir):
        raise BadRequest(
            "workdir: give an absolute path inside the container.",
            details={"field": "workdir"},
        )
    return {
        "argv": argv,
        "user": user,
        "workdir": workdir,
        "cols": _size(query, "cols"),
        "rows": _size(query, "rows"),
    }


def default_shell(engine: Engine, container: str) -> list[str]:
    for path in BASH_PATHS:
        if engine.path_exists(container, path):
            return [path]
    return ["/bin/sh"]


def create_exec(engine: Engine, container: str, options: dict[str, Any]) -> str:
    """Create the exec instance: a TTY with stdin, never privileged."""
    argv = options["argv"] or default_shell(engine, container)
    options["argv"] = argv
    created = engine.call(
        "exec_create",
        container,
        argv,
        stdin=True,
        tty=True,
        user=options["user"],
        workdir=options["workdir"] or None,
        privileged=False,
        environment={"TERM": "xterm-256color"},
    )
    return str(created["Id"])


class ExecConsumer(StreamConsumer):
    action = "exec"

    async def connect(self) -> None:
        self.pipe: RawResponse | None = None
        self.exec_id = ""
        self.started = 0.0
        self.exit_code: int | None = None
        # Keystrokes typed before the terminal is up, kept (bounded) for it.
        self.early = bytearray()
        await super().connect()

    def parse_options(self, query: dict[str, str]) -> dict[str, Any]:
        return parse_exec_options(query)

    async def stream(self) -> None:
        if not self.container.running:
            raise Conflict(
                f"container '{self.container.name}' is not running: start it to "
                "open a terminal.",
                code="container_not_running",
            )
        # The same rule as the REST policy: no exec as another user unless
        # the environment allows it (exec is never privileged here).
        await database_sync_to_async(check_exec)(
            self.user,
            self.environment,
            privileged=False,
            exec_user=self.options["user"] or None,
            container_user=self.container.user,
        )
        self.engine = engine_for(self.environment)
        self.exec_id = await asyncio.to_thread(
            create_exec, self.engine, self.container.id, self.options
        )
        self.pipe = await open_stream(
            self.engine,
            "POST",
            "/exec/{0}/start",
            self.exec_id,
            json={"Detach": False, "Tty": True},
            upgrade=True,
        )
        self.started = time.monotonic()
        if self.options["cols"] and self.options["rows"]:
            await self._resize(self.options["cols"], self.options["rows"])
        await self._audit(Action.CONTAINER_EXEC_OPEN)
        if self.early:
            self.pipe.write(bytes(self.early))
            self.early.clear()
        async for data in read_body(self.pipe):
            await self.send_raw(data)
        self.pipe = None
        self.exit_code = await asyncio.to_thread(self._exit_code)
        await self.finish(("end", {"exit_code": self.exit_code}))

    def _exit_code(self) -> int | None:
        document = self.engine.get_json("/exec/{0}/json", self.exec_id)
        # The process may still be winding down just after its output ended.
        for _ in range(20):
            if not document.get("Running"):
                break
            time.sleep(0.05)
            document = self.engine.get_json("/exec/{0}/json", self.exec_id)
        code = document.get("ExitCode")
        return int(code) if code is not None else None

    async def on_bytes(self, data: bytes) -> None:
        if self.pipe is not None:
            self.pipe.write(data)
        elif not self.started and len(self.early) + len(data) <= EARLY_INPUT_LIMIT:
            self.early += data

    async def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "input" and isinstance(message.get("data"), str):
            await self.on_bytes(message["data"].encode())
        elif kind == "resize":
            cols, rows = message.get("cols"), message.get("rows")
            if isinstance(cols, int) and isinstance(rows, int):
                await self._resize_within_limits(cols, rows)

    async def _resize_within_limits(self, cols: int, rows: int) -> None:
        if _valid_size(cols) and _valid_size(rows):
            await self._resize(cols, rows)

    async def _resize(self, cols: int, rows: int) -> None:
        if self.exec_id:
            await asyncio.to_thread(
                self.engine.post,
                "/exec/{0}/resize",
                self.exec_id,
                params={"h": rows, "w": cols},
            )

    async def cleanup(self) -> None:
        # Known shortcoming: closing the pipe hangs up the terminal, but a
        # process that ignores the hangup (a loop in the background) keeps
        # running in the container: the engine has no call to end an exec.
        if self.pipe is not None:
            self.pipe.close()
            self.pipe = None
        if self.started:
            await self._audit(Action.CONTAINER_EXEC_CLOSE)
            self.started = 0.0

    async def _audit(self, action: Action) -> None:
        details: dict[str, Any] = {
            "environment": self.environment.name,
            "command": self.options["argv"],
            "user": self.options["user"],
            "workdir": self.options["workdir"],
            "exec_id": self.exec_id,
            "client": list(self.scope.get("client") or []),
        }
        if action == Action.CONTAINER_EXEC_CLOSE:
            details["duration_seconds"] = round(time.monotonic() - self.started, 3)
            details["exit_code"] = self.exit_code
        await database_sync_to_async(record)(
            action,
            actor=self.user,
            resource_type="container",
            resource_id=self.container.id,
            resource_name=self.container.name,
            outcome=Outcome.SUCCESS,
            details=details,
        )


def _valid_size(value: Any) -> bool:
    return isinstance(value, int) and 0 < value <= _SIZE_LIMIT
