"""Container reads answered before Django (apps/containers/quickreads.py).

Each request goes through the portal's ASGI handler, as Daphne sends it.
The quick path must give the answer the full path gives, or leave the
request to the full path: these tests compare the two and check which one
answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import docker
import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import Role
from apps.containers import documentcache
from dockpilot import handler
from dockpilot.handler import PortalASGIHandler
from tests.conftest import PASSWORD, client_for, grant_environment, make_user, own

pytestmark = pytest.mark.django_db(transaction=True)

# Headers that differ between any two answers.
_PER_ANSWER = {b"x-request-id", b"content-length"}


class Portal:
    """The ASGI application, with a record of which path answered each request."""

    def __init__(self) -> None:
        self.app = PortalASGIHandler()
        self.quick: list[bool] = []
        respond = self.app._quick_reads

        async def spy(scope: dict[str, Any], send: Any) -> bool:
            answered = await respond(scope, send)
            self.quick.append(answered)
            return answered

        self.app._quick_reads = spy

    async def get(
        self, path: str, token: str, query: str = "", **headers: str
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        head = [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        head += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        return await self.call("GET", path, query, head)

    async def call(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        }
        sent: list[dict[str, Any]] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        never = asyncio.get_running_loop().create_future()

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else await never

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent[1:])
        answer = {name.lower(): value for name, value in sent[0]["headers"]}
        return sent[0]["status"], answer, body


@pytest.fixture(autouse=True)
def _no_idle_threads() -> Iterator[None]:
    yield
    for thread in handler._idle:
        thread.shutdown(wait=False)
    handler._idle.clear()


def token_of(user: Any) -> str:
    return str(RefreshToken.for_user(user).access_token)


def run(scenario: Any) -> Any:
    return asyncio.run(scenario)


def after_a_first_read(
    portal: Portal, path: str, token: str, query: str = "", **headers: str
) -> Any:
    """The answer to a request sent after a plain read of ``path`` filled the
    caches the quick path needs."""

    async def scenario() -> Any:
        await portal.get(path, token)
        return await portal.get(path, token, query, **headers)

    return run(scenario())


def two_reads(portal: Portal, path: str, token: str) -> list[int]:
    """The statuses of the same read sent twice in a row."""

    async def scenario() -> list[int]:
        return [(await portal.get(path, token))[0] for _ in range(2)]

    return list(run(scenario()))


async def full_and_quick(
    portal: Portal, path: str, token: str, query: str = "", **headers: str
) -> tuple[Any, Any]:
    """The full path's answer (it fills the caches), then the quick path's."""
    with override_settings(QUICK_READS=False):
        full = await portal.get(path, token, query, **headers)
    portal.quick.clear()
    quick = await portal.get(path, token, query, **headers)
    return full, quick


def assert_same(full: Any, quick: Any) -> None:
    status, headers, body = full
    assert quick[0] == status
    assert quick[2] == body
    keep = {k: v for k, v in headers.items() if k not in _PER_ANSWER}
    assert {k: v for k, v in quick[1].items() if k not in _PER_ANSWER} == keep


def test_an_admin_inspect_is_answered_quickly_and_as_the_full_path_does(
    admin_user, make_container, unique_name
):
    ident = make_container(unique_name, environment=["PASSWORD=hunter2"])
    portal = Portal()
    path = f"/api/v1/containers/{unique_name}/"

    full, quick = run(full_and_quick(portal, path, token_of(admin_user)))

    assert full[0] == 200
    assert_same(full, quick)
    assert portal.quick == [True]
    assert b"hunter2" in quick[2] and ident.encode() in quick[2]


@pytest.mark.parametrize(
    "query",
    ["", "tail=2", "tail=0", "timestamps=true&tail=5", "stdout=0", "stderr=false"],
)
def test_an_admin_log_read_matches_the_full_path(
    admin_user, make_container, unique_name, query
):
    make_container(
        unique_name,
        command=["sh", "-c", "echo one; echo two >&2; printf 'caf\\xc3\\n'; sleep 300"],
    )
    time.sleep(0.5)
    portal = Portal()
    path = f"/api/v1/containers/{unique_name}/logs/"

    full, quick = run(full_and_quick(portal, path, token_of(admin_user), query))

    assert full[0] == 200
    assert_same(full, quick)
    assert portal.quick == [True]


def test_a_viewer_sees_masked_values_on_the_quick_path_too(
    viewer_user, make_container, unique_name
):
    ident = make_container(unique_name, environment=["PASSWORD=hunter2"])
    own(viewer_user, "container", ident)
    portal = Portal()
    token = token_of(viewer_user)

    full, quick = run(full_and_quick(portal, f"/api/v1/containers/{ident}/", token))

    assert full[0] == 200
    assert_same(full, quick)
    assert portal.quick == [True]
    assert b"hunter2" not in quick[2] and b"PASSWORD=***" in quick[2]


def test_an_operator_reads_the_log_of_their_container_on_the_quick_path(
    operator_user, make_container, unique_name
):
    ident = make_container(
        unique_name, command=["sh", "-c", "echo mine; sleep 300"], owner=operator_user
    )
    time.sleep(0.5)
    portal = Portal()
    path = f"/api/v1/containers/{ident}/logs/"

    full, quick = run(full_and_quick(portal, path, token_of(operator_user), "tail=5"))

    assert full[0] == 200
    assert_same(full, quick)
    assert portal.quick == [True]
    assert b'"text":"mine"' in quick[2]


def test_a_container_a_user_may_not_see_is_left_to_the_full_path(
    viewer_user, make_container, unique_name
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(viewer_user)

    async def scenario() -> list[Any]:
        return [
            await portal.get(f"/api/v1/containers/{unique_name}/", token),
            await portal.get(f"/api/v1/containers/{unique_name}/logs/", token),
        ]

    answers = run(scenario())

    assert [status for status, _h, _b in answers] == [404, 404]
    assert portal.quick == [False, False]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("tail=abc", 400),
        ("tail=20000", 400),
        ("stdout=0&stderr=0", 400),
        ("tail=1&tail=2", 200),
        ("since=yesterday", 400),
        ("follow=1", 200),
    ],
)
def test_log_queries_the_quick_path_does_not_read_alike_go_to_the_full_path(
    admin_user, make_container, unique_name, query, status
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    answer = after_a_first_read(portal, path, token, query)

    assert answer[0] == status
    assert portal.quick == [False, False]


def test_what_the_quick_path_does_not_know_goes_to_the_full_path(
    admin_user, make_container, unique_name
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    async def scenario() -> list[int]:
        await portal.get(path, token)  # fills the caches
        statuses = [
            (await portal.get(path, token + "x"))[0],  # a token never checked
            (await portal.get(path, "dpt_0000000a_" + "a" * 43))[0],
            (await portal.get(path, token, host="evil.example"))[0],
            (await portal.get(path, token, "environment=nowhere"))[0],
            (await portal.get(path.replace(unique_name, "dpt-no-such"), token))[0],
        ]
        return statuses

    statuses = run(scenario())

    assert statuses == [401, 401, 400, 404, 404]
    assert portal.quick == [False] * 6


def test_a_deactivated_user_is_refused_at_once(admin_user, make_container, unique_name):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    async def scenario() -> int:
        await portal.get(path, token)
        await portal.get(path, token)
        admin_user.is_active = False
        await asyncio.to_thread(admin_user.save)
        return (await portal.get(path, token))[0]

    assert run(scenario()) == 401
    assert portal.quick == [False, True, False]


def test_a_personal_token_is_served_by_the_full_path(
    admin_user, make_container, unique_name
):
    make_container(unique_name)
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    body = {
        "name": "script",
        "scopes": "read",
        "password": PASSWORD,
        "expires_at": expires,
    }
    created = client_for(admin_user).post("/api/v1/auth/tokens/", body, format="json")
    assert created.status_code == 201, created.content
    raw = created.json()["token"]
    portal = Portal()

    assert two_reads(portal, f"/api/v1/containers/{unique_name}/", raw) == [200, 200]
    assert portal.quick == [False, False]


def test_a_kept_document_is_dropped_when_the_engine_says_the_container_changed(
    admin_user, make_container, unique_name, docker_client
):
    ident = make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    async def state() -> str:
        status, _headers, body = await portal.get(path, token)
        assert status == 200
        import orjson

        return str(orjson.loads(body)["State"]["Status"])

    async def scenario() -> tuple[str, str, float]:
        await state()  # full path
        await state()  # quick: starts following the engine's events
        await following()
        first = await state()
        await state()  # kept now
        await asyncio.to_thread(docker_client.api.pause, ident)
        began = time.monotonic()
        seen = await state()
        # The event arrives a moment after the engine's answer; the document
        # kept for KEEP_SECONDS must not be what is shown until then.
        while seen != "paused" and time.monotonic() - began < 1.0:
            await asyncio.sleep(0.01)
            seen = await state()
        return first, seen, time.monotonic() - began

    try:
        first, seen, took = run(scenario())
    finally:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.unpause(ident)

    assert (first, seen) == ("running", "paused")
    assert took < documentcache.KEEP_SECONDS / 2


async def following() -> None:
    # The quick path starts following the engine's events on first use.
    for _ in range(200):
        if any(kept.following for kept in documentcache._kept.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the engine's events were never followed")


def test_a_change_made_through_the_portal_shows_in_the_next_quick_read(
    admin_user, make_container, unique_name
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"
    auth = [
        (b"host", b"127.0.0.1:8000"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
    ]

    async def scenario() -> tuple[int, bytes]:
        await portal.get(path, token)
        await portal.get(path, token)
        await following()
        await portal.get(path, token)
        await portal.get(path, token)  # kept
        body = b'{"timeout": 0}'
        auth.append((b"content-length", str(len(body)).encode()))
        stop = await portal.call("POST", f"{path}stop/", "", auth, body)
        assert stop[0] == 200, stop
        status, _headers, body = await portal.get(path, token)
        return status, body

    status, body = run(scenario())

    import orjson

    assert status == 200
    assert orjson.loads(body)["State"]["Status"] == "exited"
    assert portal.quick[-1] is True


def test_an_operator_with_a_reset_password_is_left_to_the_full_path(
    make_container, unique_name
):
    user = make_user("rita-reset", Role.ADMIN)
    user.must_change_password = True
    user.save()
    make_container(unique_name)
    portal = Portal()
    token = token_of(user)

    assert two_reads(portal, f"/api/v1/containers/{unique_name}/", token) == [403, 403]
    assert portal.quick == [False, False]


def test_with_the_engine_stopped_the_full_path_says_503_and_reads_recover(
    admin_user, make_container, unique_name, relay, relayed_default
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    async def scenario() -> list[tuple[int, float]]:
        seen = []
        for step in ("warm", "quick", "stop", "again", "start", "back"):
            if step == "stop":
                relay.stop()
                continue
            if step == "start":
                relay.start()
                continue
            began = time.monotonic()
            status, _headers, body = await portal.get(path, token)
            seen.append((status, time.monotonic() - began))
            if status == 503:
                assert b'"engine_unavailable"' in body
        return seen

    seen = run(scenario())

    assert [status for status, _took in seen] == [200, 200, 503, 200]
    assert all(took < 10 for _status, took in seen)
    # Down, the quick path has nothing to answer with: the full path says
    # why. Back, the quick path answers again on a new connection.
    assert portal.quick == [False, True, False, True]


def read_from_a_silent_engine(
    portal: Portal, path: str, token: str, relay: Any
) -> tuple[int, bytes, float]:
    """Read twice through the relay, then once more from a socket that never answers.

    Returns the last answer's status and body, and how long it took.
    """
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    async def scenario() -> tuple[int, bytes, float]:
        assert (await portal.get(path, token))[0] == 200  # the full path
        assert (await portal.get(path, token))[0] == 200  # quick: connection kept
        relay.stop()
        silent.bind(str(relay.path))
        silent.listen(8)
        began = time.monotonic()
        status, _headers, body = await portal.get(path, token)
        return status, body, time.monotonic() - began

    with override_settings(DOCKER_READ_TIMEOUT=2):
        try:
            return run(scenario())
        finally:
            silent.close()


def test_an_engine_that_stops_answering_gets_one_503_not_two_timeouts(
    admin_user, make_container, unique_name, relay, relayed_default, tmp_path
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    status, body, took = read_from_a_silent_engine(portal, path, token, relay)

    assert status == 503 and b'"engine_unavailable"' in body
    assert b"timed out" in body
    assert portal.quick[-1] is True
    assert took < 4


def without_running_time(body: bytes) -> Any:
    """A list answer without its entries' status texts ("Up 5 seconds"), which
    the engine words anew each second."""
    import orjson

    page = orjson.loads(body)
    for item in page["results"]:
        item.pop("status")
    return page


@pytest.mark.parametrize("query", ["", "page_size=1", "page_size=1&page=2", "all=0"])
def test_an_admin_list_matches_the_full_path(
    admin_user, make_container, unique_name, query
):
    make_container(unique_name)
    make_container(unique_name + "-b", start=False)
    portal = Portal()
    token = token_of(admin_user)

    async def scenario() -> tuple[Any, Any]:
        # Other containers on the engine may come and go between two reads:
        # the two paths must agree on one of a few tries.
        for _ in range(3):
            full, quick = await full_and_quick(
                portal, "/api/v1/containers/", token, query
            )
            if without_running_time(full[2]) == without_running_time(quick[2]):
                break
        return full, quick

    full, quick = run(scenario())

    assert full[0] == quick[0] == 200
    assert without_running_time(quick[2]) == without_running_time(full[2])
    assert_same((*full[:2], b""), (*quick[:2], b""))
    assert portal.quick == [True]


def test_an_operator_lists_only_their_containers_on_the_quick_path(
    operator_user, make_container, unique_name
):
    mine = make_container(unique_name, owner=operator_user)
    make_container(unique_name + "-other")
    portal = Portal()

    full, quick = run(
        full_and_quick(portal, "/api/v1/containers/", token_of(operator_user))
    )

    assert full[0] == 200
    # A second may pass between the two reads: "Up 1 second", "Up 2 seconds".
    assert without_running_time(quick[2]) == without_running_time(full[2])
    assert_same((*full[:2], b""), (*quick[:2], b""))
    assert portal.quick == [True]
    import orjson

    assert [item["id"] for item in orjson.loads(quick[2])["results"]] == [mine]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=x", 200),
        ("label=a=b", 200),
        ("status=running", 200),
        ("page=99", 404),
        ("all=maybe", 400),
    ],
)
def test_list_filters_and_odd_pages_go_to_the_full_path(admin_user, query, expected):
    portal = Portal()
    token = token_of(admin_user)

    answer = after_a_first_read(portal, "/api/v1/containers/", token, query)

    assert answer[0] == expected
    assert portal.quick == [False, False]


PRODUCTION_TLS = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 3600,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


def test_behind_a_tls_proxy_the_quick_answer_carries_hsts_and_plain_http_is_redirected(
    admin_user, make_container, unique_name
):
    make_container(unique_name, environment=["PASSWORD=hunter2"])
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    with override_settings(**PRODUCTION_TLS):
        portal = Portal()  # the middleware reads these settings when loaded

        async def scenario() -> tuple[Any, Any, Any]:
            full, quick = await full_and_quick(
                portal, path, token, x_forwarded_proto="https"
            )
            plain = await portal.get(path, token)
            return full, quick, plain

        full, quick, plain = run(scenario())

    assert full[0] == 200 and b"strict-transport-security" in full[1]
    assert_same(full, quick)
    assert plain[0] == 301 and b"hunter2" not in plain[2]
    assert portal.quick == [True, False]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"accept": "text/html"}, 406),
        ({"accept": "application/json; indent=4"}, 200),
        ({"cookie": "sessionid=abc"}, 200),
    ],
)
def test_requests_the_full_path_answers_otherwise_go_to_it(
    admin_user, make_container, unique_name, headers, expected
):
    make_container(unique_name)
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"

    answer = after_a_first_read(portal, path, token, **headers)

    assert answer[0] == expected
    assert portal.quick == [False, False]


def test_a_viewer_waits_for_a_silent_engine_once_not_twice(
    operator_user, make_container, unique_name, relay, relayed_default
):
    grant_environment(operator_user, ("view",), relayed_default)
    ident = make_container(unique_name, owner=operator_user)
    portal = Portal()
    token = token_of(operator_user)
    path = f"/api/v1/containers/{ident}/"

    status, body, took = read_from_a_silent_engine(portal, path, token, relay)

    assert status == 503 and b'"engine_unavailable"' in body
    assert portal.quick == [False, True, True]
    assert took < 4


def test_an_admin_page_follows_the_engines_list_the_query_and_the_host(
    admin_user, make_container, unique_name
):
    # The last admin page is reused only for the same engine bytes and the
    # same request: a new container, another page or another host shows.
    make_container(unique_name)
    make_container(f"{unique_name}-b", start=False)
    portal = Portal()
    token = token_of(admin_user)
    path = "/api/v1/containers/"

    async def scenario() -> list[Any]:
        await portal.get(path, token, "page_size=1000")  # the full path
        seen = [await portal.get(path, token, "page_size=1000")]
        await asyncio.to_thread(make_container, f"{unique_name}-new", start=False)
        seen.append(await portal.get(path, token, "page_size=1000"))
        seen.append(await portal.get(path, token, "page_size=1"))
        other_host = [
            (b"host", b"localhost"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        seen.append(await portal.call("GET", path, "page_size=1", other_host))
        return seen

    before, after, one, elsewhere = run(scenario())

    import orjson

    def names(answer: Any) -> set[str]:
        return {item["name"] for item in orjson.loads(answer[2])["results"]}

    assert f"{unique_name}-new" not in names(before)
    assert f"{unique_name}-new" in names(after)
    assert len(orjson.loads(one[2])["results"]) == 1
    assert orjson.loads(one[2])["next"].startswith("http://127.0.0.1:8000/")
    assert orjson.loads(elsewhere[2])["next"].startswith("http://localhost/")
    assert portal.quick[1:] == [True] * 4
