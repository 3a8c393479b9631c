"""An open stream does not outlive its credential or its grant."""

from __future__ import annotations

import datetime

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone
from guardian.shortcuts import remove_perm

from apps.accounts import access
from apps.accounts.models import User
from apps.containers.environments import default_environment

from .conftest import Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_recheck(settings):
    settings.WS_RECHECK_SECONDS = 0.5


def _read_token(client) -> str:
    expires = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        "/api/v1/auth/tokens/",
        {
            "name": "ro",
            "scopes": "read",
            "expires_at": expires,
            "password": "correct-horse-battery-9",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["token"]


def test_a_read_scope_token_cannot_open_a_terminal(
    make_container, unique_name, operator_client
):
    ident = make_container(unique_name)
    token = _read_token(operator_client)

    async def body():
        socket = Socket(f"/ws/containers/{ident}/exec/", token=token)
        await socket.open()
        try:
            return await socket.closed(timeout=10)
        finally:
            await socket.leave()

    assert async_to_sync(body)() == 4403


def _watch_then(path: str, token: str, change) -> int | None:
    async def body():
        socket = Socket(path, token=token)
        await socket.open()
        try:
            await socket.next(timeout=10)  # the stream is live
            await sync_to_async(change)()
            return await socket.closed(timeout=15)
        finally:
            await socket.leave()

    return async_to_sync(body)()


def test_a_password_change_closes_an_open_stream(
    make_container, unique_name, operator_user
):
    ident = make_container(unique_name, command=["sh", "-c", "echo up; sleep 60"])

    def change_password():
        user = User.objects.get(pk=operator_user.pk)
        user.set_password("a-new-long-password-77")
        user.save()

    code = _watch_then(
        f"/ws/containers/{ident}/logs/", token_for(operator_user), change_password
    )
    assert code == 4401


def test_a_revoked_grant_closes_an_open_stream(
    make_container, unique_name, viewer_user
):
    ident = make_container(unique_name, command=["sh", "-c", "echo up; sleep 60"])

    def revoke():
        row = access.ownership(default_environment(), "container", ident)
        remove_perm("containers.view_resourceownership", viewer_user, row)

    code = _watch_then(f"/ws/containers/{ident}/logs/", token_for(viewer_user), revoke)
    assert code == 4404
