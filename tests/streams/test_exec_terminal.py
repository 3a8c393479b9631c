"""An interactive terminal over a WebSocket, audited, against the real engine."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from apps.audit.models import AuditLog

from .conftest import Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def output_of(messages: list) -> bytes:
    return b"".join(m for m in messages if isinstance(m, bytes))


def has_output(text: bytes):
    return lambda messages: text in output_of(messages)


def ended(messages: list) -> bool:
    return any(isinstance(m, dict) and m.get("type") == "end" for m in messages)


def test_a_shell_runs_resizes_and_reports_its_exit_code(
    make_container, unique_name, operator_user
):
    ident = make_container(unique_name)
    token = token_for(operator_user)

    async def body():
        socket = Socket(f"/ws/containers/{ident}/exec/?cols=80&rows=24", token=token)
        await socket.open()
        try:
            await socket.communicator.send_to(
                bytes_data=b"stty size; echo mark-$((6*7))\n"
            )
            first = await socket.until(has_output(b"mark-42"))
            await socket.send({"type": "resize", "cols": 100, "rows": 30})
            await socket.send({"type": "input", "data": "stty size; exit 7\n"})
            rest = await socket.until(ended)
            code = await socket.closed()
            return first, rest, code
        finally:
            await socket.leave()

    first, rest, code = async_to_sync(body)()
    assert b"24 80" in output_of(first)
    assert b"30 100" in output_of(rest)
    assert rest[-1] == {"type": "end", "seq": len(first) + len(rest), "exit_code": 7}
    assert code == 1000

    opened, closed = AuditLog.objects.filter(resource_id=ident).order_by("id")
    assert (opened.action, closed.action) == (
        "container.exec_open",
        "container.exec_close",
    )
    assert opened.actor == operator_user
    assert opened.details["command"] == ["/bin/sh"]  # busybox has no bash
    assert closed.details["exit_code"] == 7
    assert closed.details["duration_seconds"] > 0


def test_a_command_user_and_workdir_are_used(make_container, unique_name, admin_user):
    ident = make_container(unique_name)
    token = token_for(admin_user)
    query = "command=sh%20-c%20%27id%20-u%3B%20pwd%27&user=1234&workdir=/bin"

    async def body():
        socket = Socket(f"/ws/containers/{ident}/exec/?{query}", token=token)
        await socket.open()
        try:
            return await socket.until(ended)
        finally:
            await socket.leave()

    messages = async_to_sync(body)()
    assert output_of(messages).split() == [b"1234", b"/bin"]
    assert messages[-1]["exit_code"] == 0


def test_a_stopped_container_has_no_terminal(
    make_container, unique_name, operator_user
):
    ident = make_container(unique_name, start=False)
    token = token_for(operator_user)

    async def body():
        socket = Socket(f"/ws/containers/{ident}/exec/", token=token)
        await socket.open()
        message = await socket.next()
        code = await socket.closed()
        await socket.leave()
        return message, code

    message, code = async_to_sync(body)()
    assert message["code"] == "container_not_running"
    assert code == 4409
