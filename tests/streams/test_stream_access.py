"""Streams decide through the access module, as the REST routes do."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from apps.accounts.models import Role
from tests.conftest import make_user

from .conftest import Socket, has_text, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def _close_code(path: str, user) -> int | None:
    token = token_for(user)

    async def body():
        socket = Socket(path, token=token)
        await socket.open()
        try:
            return await socket.closed(timeout=10)
        finally:
            await socket.leave()

    return async_to_sync(body)()


def test_an_outsider_cannot_watch_a_container_it_cannot_see(
    make_container, unique_name
):
    ident = make_container(unique_name)
    outsider = make_user("olga-outsider", Role.OPERATOR)

    for kind in ("logs", "stats", "exec"):
        assert _close_code(f"/ws/containers/{ident}/{kind}/", outsider) == 4404


def test_a_viewer_with_a_grant_reads_logs_but_gets_no_terminal(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, command=["sh", "-c", "echo seen; sleep 60"])
    token = token_for(viewer_user)

    async def logs():
        socket = Socket(f"/ws/containers/{ident}/logs/", token=token)
        await socket.open()
        try:
            return await socket.until(has_text("seen"))
        finally:
            await socket.leave()

    assert async_to_sync(logs)()
    assert _close_code(f"/ws/containers/{ident}/exec/", viewer_user) == 4403
