"""Who may open a stream: session, JWT (subprotocol or first message), origin, role."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from tests.conftest import PASSWORD

from .conftest import Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = ("logs", "stats", "exec")


def container_paths(ident: str) -> list[str]:
    return [f"/ws/containers/{ident}/{kind}/" for kind in ROUTES] + ["/ws/events/"]


@pytest.fixture
def sleeper(make_container, unique_name) -> str:
    return make_container(unique_name)


def test_every_route_closes_an_anonymous_client_before_any_data(sleeper):
    async def body():
        for path in container_paths(sleeper):
            socket = Socket(path)
            connected, _ = await socket.open()
            assert connected
            # No auth message within the (shortened) timeout: closed, no data.
            output = await socket.communicator.receive_output(timeout=5)
            assert output == {"type": "websocket.close", "code": 4401}, path
            await socket.leave()

    async_to_sync(body)()


def test_every_route_refuses_a_wrong_origin(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        for path in container_paths(sleeper):
            socket = Socket(path, token=token, origin="http://evil.example")
            connected, _ = await socket.open()
            assert not connected, path
            await socket.leave()
            missing = Socket(path, token=token, origin=None)
            connected, _ = await missing.open()
            assert not connected, path
            await missing.leave()

    async_to_sync(body)()


def test_only_the_portals_own_origin_may_open_a_stream(sleeper, viewer_user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://portal.example"]
    token = token_for(viewer_user)
    path = f"/ws/containers/{sleeper}/stats/"
    cases = [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", False),
        ("http://localhost:8000", "127.0.0.1:8000", False),
        # One port serves one protocol: behind a proxy that ends TLS there,
        # the page is https and the portal itself is reached as plain ws.
        ("https://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://127.0.0.1", "127.0.0.1:8000", False),
        ("http://127.0.0.1", "127.0.0.1:80", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        # Behind a proxy serving the portal under a name of its own.
        ("https://portal.example", "127.0.0.1:8000", True),
        ("https://portal.example:8443", "127.0.0.1:8000", False),
        ("http://127.0.0.1:8000", "", False),
    ]

    async def body():
        for origin, host, allowed in cases:
            socket = Socket(path, token=token, origin=origin, host=host or None)
            connected, _ = await socket.open()
            assert connected is allowed, (origin, host)
            await socket.leave()

    async_to_sync(body)()


def test_a_bad_token_in_the_subprotocol_is_refused_at_once(sleeper):
    async def body():
        for path in container_paths(sleeper):
            socket = Socket(path, subprotocols=["dockpilot", "bearer.not-a-jwt"])
            await socket.open()
            output = await socket.communicator.receive_output(timeout=1)
            assert output == {"type": "websocket.close", "code": 4401}, path
            await socket.leave()

    async_to_sync(body)()


def test_a_jwt_offered_as_subprotocol_opens_the_stream(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/stats/", token=token)
        connected, subprotocol = await socket.open()
        # The server names "dockpilot", never echoes the token back.
        assert connected and subprotocol == "dockpilot"
        message = await socket.next(timeout=10)
        assert message["type"] == "stats"
        await socket.leave()

    async_to_sync(body)()


def test_a_jwt_sent_as_first_message_opens_the_stream(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/stats/")
        await socket.open()
        await socket.send({"type": "auth", "token": token})
        message = await socket.next(timeout=10)
        assert message["type"] == "stats"
        await socket.leave()

    async_to_sync(body)()


def test_a_wrong_first_message_closes_unauthenticated(sleeper):
    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/logs/")
        await socket.open()
        await socket.send({"type": "auth", "token": "forged"})
        assert await socket.closed() == 4401
        await socket.leave()

    async_to_sync(body)()


def test_a_token_in_the_query_string_is_not_accepted(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        path = f"/ws/containers/{sleeper}/logs/?token={token}"
        socket = Socket(path)
        await socket.open()
        assert await socket.closed() == 4401
        await socket.leave()

    async_to_sync(body)()


def test_the_session_cookie_of_a_logged_in_browser_opens_the_stream(
    sleeper, viewer_user
):
    browser = Client()
    assert browser.login(username=viewer_user.username, password=PASSWORD)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()

    async def body():
        socket = Socket(
            f"/ws/containers/{sleeper}/stats/", headers=[(b"cookie", cookie)]
        )
        await socket.open()
        message = await socket.next(timeout=10)
        assert message["type"] == "stats"
        await socket.leave()

    async_to_sync(body)()


def test_a_viewer_cannot_open_a_terminal(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/exec/", token=token)
        await socket.open()
        message = await socket.next()
        assert message["type"] == "error"
        assert message["code"] == "permission_denied"
        assert await socket.closed() == 4403
        await socket.leave()

    async_to_sync(body)()


def test_an_unknown_container_closes_with_not_found(operator_user, docker_client):
    token = token_for(operator_user)

    async def body():
        for kind in ROUTES:
            socket = Socket(f"/ws/containers/dpt-no-such-thing/{kind}/", token=token)
            await socket.open()
            message = await socket.next()
            assert message["type"] == "error", kind
            assert await socket.closed() == 4404, kind
            await socket.leave()

    async_to_sync(body)()


def test_an_unknown_environment_closes_with_not_found(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        path = f"/ws/containers/{sleeper}/logs/?environment=nowhere"
        socket = Socket(path, token=token)
        await socket.open()
        message = await socket.next()
        assert message["code"] == "environment_not_found"
        assert await socket.closed() == 4404
        await socket.leave()

    async_to_sync(body)()


def test_a_deactivated_user_is_disconnected(sleeper, viewer_user):
    token = token_for(viewer_user)

    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/stats/", token=token)
        await socket.open()
        assert (await socket.next(timeout=10))["type"] == "stats"
        await deactivate(viewer_user)
        assert await socket.closed(timeout=10) == 4401
        await socket.leave()

    async_to_sync(body)()


def test_a_demoted_operator_loses_the_terminal(sleeper, operator_user):
    token = token_for(operator_user)

    async def body():
        socket = Socket(f"/ws/containers/{sleeper}/exec/", token=token)
        await socket.open()
        await socket.communicator.send_to(bytes_data=b"echo ready\n")
        await socket.until(
            lambda m: any(b"ready" in x for x in m if isinstance(x, bytes))
        )
        await demote(operator_user)
        assert await socket.closed(timeout=10) == 4403
        await socket.leave()

    async_to_sync(body)()


async def deactivate(user) -> None:
    from channels.db import database_sync_to_async

    user.is_active = False
    await database_sync_to_async(user.save)()


async def demote(user) -> None:
    from channels.db import database_sync_to_async

    user.role = "viewer"
    await database_sync_to_async(user.save)()
