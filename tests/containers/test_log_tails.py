"""Log tails kept while the engine streams them (apps/containers/logtails.py).

A kept tail must give the engine's own bytes for the same read, follow
the log as it grows, and be gone as soon as the container stops or the
portal changes anything. The reads go through the portal's ASGI handler,
as Daphne sends them, against the real engine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from apps.containers import logtails
from apps.containers.engine import engine_for
from apps.containers.environments import default_environment
from apps.containers.logs import parse_logs
from tests.containers.test_quick_reads import Portal, full_and_quick, run, token_of

pytestmark = pytest.mark.django_db(transaction=True)

# Lines of every kind the engine frames differently: both streams, a line
# longer than the engine's 16 KiB buffer (cut into three entries), invalid
# UTF-8, a carriage return and an empty line. (Output without a newline
# stays in the engine's buffer while the container runs.)
_MIXED = (
    "echo one; echo two >&2; printf 'caf\\xc3\\n'; printf 'dos\\r\\n'; echo;"
    " head -c 40000 /dev/zero | tr '\\0' x; echo; echo three >&2;"
    " echo done; sleep 300"
)


_tails: list[logtails.KeptTails] = []
_engines: list[Any] = []


@pytest.fixture(autouse=True)
def _no_kept_tails(db: None) -> Iterator[None]:
    engine = engine_for(default_environment())
    _tails[:] = [logtails.kept_for(engine)]
    _engines[:] = [engine]
    yield
    for kept in logtails._kept.values():
        kept.drop_all()


def tails() -> logtails.KeptTails:
    """The default engine's kept tails (callable from the event loop)."""
    return _tails[0]


async def kept_ready(container: str) -> logtails._Tail:
    """The container's kept tail, once seeded from the engine."""
    for _ in range(500):
        found = tails()._tails.get(container)
        if found is not None and found.seeded:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("the log's tail was never kept")


async def kept_answer(container: str, count: int, timestamps: bool) -> bytes | None:
    return await tails().answer(_engines[0], container, count, timestamps)


async def keep_tail(portal: Portal, path: str, token: str, container: str) -> None:
    """Read a log until its tail is kept: the full path's read fills the
    caches, the quick path follows a log from its second read."""
    for _ in range(3):
        status, _headers, _body = await portal.get(path, token)
        assert status == 200
    await kept_ready(container)


def engine_body(docker_client: Any, container: str, **params: Any) -> bytes:
    """The engine's own answer to a log read, as it sends it."""
    api = docker_client.api
    url = api._url("/containers/{0}/logs", container)
    response = api._get(url, params={"stdout": 1, "stderr": 1, **params})
    response.raise_for_status()
    return bytes(response.content)


def settled(docker_client: Any, container: str, last: bytes) -> None:
    for _ in range(100):
        # stdout and stderr are copied apart: the last line may come first.
        if last in engine_body(docker_client, container, tail=5):
            return
        time.sleep(0.05)
    raise AssertionError(f"{last!r} never reached the log")


def test_a_kept_tail_is_the_engines_own_bytes_for_every_tail_and_stamp(
    admin_user, make_container, unique_name, docker_client
):
    ident = make_container(unique_name, command=["sh", "-c", _MIXED])
    settled(docker_client, ident, b"done")
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> dict[tuple[int, bool], bytes | None]:
        await keep_tail(portal, path, token, ident)
        return {
            (tail, stamps): await kept_answer(ident, tail, stamps)
            for tail in (1, 2, 3, 4, 9, 10, 100, 10000)
            for stamps in (False, True)
        }

    kept = run(scenario())

    for (tail, stamps), body in kept.items():
        assert body is not None
        assert body == engine_body(
            docker_client, ident, tail=tail, timestamps=int(stamps)
        ), (tail, stamps)


@pytest.mark.parametrize(
    "query",
    ["", "tail=1", "tail=4", "tail=10000", "timestamps=true&tail=5", "timestamps=1"],
)
def test_answers_from_a_kept_tail_match_the_full_path(
    admin_user, make_container, unique_name, docker_client, query
):
    ident = make_container(unique_name, command=["sh", "-c", _MIXED])
    settled(docker_client, ident, b"done")
    portal = Portal()

    full, quick = kept_then_both(portal, admin_user, unique_name, ident, query)

    assert full[0] == 200
    assert quick[:1] + quick[2:] == full[:1] + full[2:]
    assert portal.quick == [True]


def kept_then_both(
    portal: Portal, user: Any, name: str, container: str, query: str
) -> tuple[Any, Any]:
    """The full path's answer to a log read, then the quick path's from a
    kept tail."""
    token = token_of(user)
    path = f"/api/v1/containers/{name}/logs/"

    async def scenario() -> tuple[Any, Any]:
        await keep_tail(portal, path, token, container)
        return await full_and_quick(portal, path, token, query)

    return run(scenario())


def line_numbers(body: bytes) -> list[int]:
    return [int(line["text"]) for line in orjson.loads(body)["lines"]]


def test_a_kept_tail_follows_a_growing_log(
    admin_user, make_container, unique_name, docker_client
):
    ident = make_container(
        unique_name,
        command=[
            "sh",
            "-c",
            "i=0; while [ $i -lt 600 ]; do echo $i; i=$((i+1)); sleep 0.02; done;"
            " sleep 300",
        ],
    )
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> list[tuple[list[int], bytes]]:
        await keep_tail(portal, path, token, ident)
        await asyncio.to_thread(settled, docker_client, ident, b"5\n")
        seen = []
        for _ in range(40):
            status, _headers, body = await portal.get(path, token, "tail=5")
            assert status == 200
            after = await asyncio.to_thread(engine_body, docker_client, ident, tail=50)
            seen.append((line_numbers(body), after))
            await asyncio.sleep(0.03)
        return seen

    seen = run(scenario())

    assert all(portal.quick[2:])
    numbers = [answer for answer, _after in seen]
    for answer in numbers:
        # Five lines in a row, as the engine's tail=5 gives them.
        assert answer == list(range(answer[0], answer[0] + 5))
    for answer, after in seen:
        # Never a line the engine had not written; never far behind it.
        written = [int(line.text) for line in parse_logs(after)]
        assert answer[-1] <= written[-1]
        assert written[-1] - answer[-1] <= 5
    assert numbers[-1][-1] - numbers[0][-1] >= 20  # it grew while read


def test_a_change_through_the_portal_shows_the_lines_it_caused(
    admin_user, make_container, unique_name
):
    make_container(
        unique_name,
        command=[
            "sh",
            "-c",
            "trap 'echo bye; exit 0' TERM; echo hi; while true; do sleep 0.05; done",
        ],
    )
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/"
    head = [
        (b"host", b"127.0.0.1:8000"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"14"),
    ]

    async def scenario() -> tuple[list[str], list[str], bool]:
        document = orjson.loads((await portal.get(path, token))[2])
        await keep_tail(portal, f"{path}logs/", token, document["Id"])
        before = orjson.loads((await portal.get(f"{path}logs/", token))[2])
        stop = await portal.call("POST", f"{path}stop/", "", head, b'{"timeout": 5}')
        assert stop[0] == 200, stop
        dropped = tails()._tails.get(document["Id"]) is None
        after = orjson.loads((await portal.get(f"{path}logs/", token))[2])
        return (
            [line["text"] for line in before["lines"]],
            [line["text"] for line in after["lines"]],
            dropped,
        )

    before, after, dropped = run(scenario())

    assert before == ["hi"]
    assert after == ["hi", "bye"]
    assert dropped


def test_a_container_that_exits_on_its_own_shows_its_last_lines(
    admin_user, make_container, unique_name, docker_client
):
    ident = make_container(
        unique_name, command=["sh", "-c", "echo first; sleep 1.5; echo last"]
    )
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> tuple[list[str], list[str]]:
        await keep_tail(portal, path, token, ident)
        before = orjson.loads((await portal.get(path, token))[2])["lines"]
        await asyncio.to_thread(docker_client.api.wait, ident, timeout=10)
        after = orjson.loads((await portal.get(path, token))[2])["lines"]
        return [line["text"] for line in before], [line["text"] for line in after]

    before, after = run(scenario())

    assert before == ["first"]
    assert after == ["first", "last"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tty": True},
        {
            "host_config": {
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}
            }
        },
    ],
    ids=["tty", "rotated"],
)
def test_logs_a_kept_tail_cannot_show_alike_are_always_read_from_the_engine(
    admin_user, make_container, unique_name, docker_client, kwargs
):
    ident = make_container(
        unique_name, command=["sh", "-c", "echo a; echo b; sleep 300"], **kwargs
    )
    settled(docker_client, ident, b"b")
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> tuple[Any, Any]:
        for _ in range(3):
            await portal.get(path, token)
        await asyncio.sleep(0.2)
        return await full_and_quick(portal, path, token)

    full, quick = run(scenario())

    assert full[0] == 200 and quick[2] == full[2]
    assert portal.quick == [True]
    assert ident not in tails()._tails


def test_a_read_of_one_stream_is_never_answered_from_a_kept_tail(
    admin_user, make_container, unique_name, docker_client
):
    # The engine cuts the tail before it drops the other stream's entries:
    # stdout=1&stderr=0&tail=2 may give fewer than two lines.
    ident = make_container(
        unique_name,
        command=[
            "sh",
            "-c",
            "echo out; sleep 0.3; echo e1 >&2; echo e2 >&2; sleep 300",
        ],
    )
    settled(docker_client, ident, b"e2")

    full, quick = kept_then_both(
        Portal(), admin_user, unique_name, ident, "stderr=false&tail=2"
    )

    assert quick[2] == full[2]
    assert orjson.loads(full[2])["lines"] == []


def test_a_change_asked_on_a_request_thread_drops_every_tail_at_once(
    admin_user, make_container, unique_name, docker_client
):
    ident = make_container(unique_name, command=["sh", "-c", "echo a; sleep 300"])
    settled(docker_client, ident, b"a")
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"
    engine = engine_for(default_environment())

    async def scenario() -> tuple[bytes | None, bytes | None]:
        await keep_tail(portal, path, token, ident)
        before = await kept_answer(ident, 10, False)
        thread = threading.Thread(target=engine.changed)
        thread.start()
        thread.join()
        return before, await kept_answer(ident, 10, False)

    before, after = run(scenario())

    assert before is not None and b"a\n" in before
    assert after is None


def test_a_kept_tail_behind_the_engine_is_not_used(
    admin_user, make_container, unique_name, docker_client
):
    # As when the engine's followed stream falls behind a busy log: the
    # check against the engine's last entries sends the read to the engine.
    ident = make_container(
        unique_name, command=["sh", "-c", "echo a; sleep 3; echo b; sleep 300"]
    )
    settled(docker_client, ident, b"a")
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> tuple[bytes | None, bytes | None, Any]:
        await keep_tail(portal, path, token, ident)
        before = await kept_answer(ident, 10, False)
        tails()._tails[ident].add = lambda entry: None  # the stream stalls
        await asyncio.to_thread(settled, docker_client, ident, b"b")
        after = await kept_answer(ident, 10, False)
        return before, after, await portal.get(path, token)

    before, after, read = run(scenario())

    assert before == b"\x01\0\0\0\0\0\0\x02a\n"
    assert after is None
    assert [line["text"] for line in orjson.loads(read[2])["lines"]] == ["a", "b"]
    assert portal.quick[-1] is True


def test_an_unread_tail_stops_and_the_next_read_starts_it_again(
    admin_user, make_container, unique_name, monkeypatch
):
    monkeypatch.setattr(logtails, "IDLE_SECONDS", 0.2)
    monkeypatch.setattr(logtails, "_SWEEP_SECONDS", 0.1)
    ident = make_container(unique_name, command=["sh", "-c", "echo a; sleep 300"])
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> tuple[bool, bool, bool]:
        await keep_tail(portal, path, token, ident)
        first = tails()._tails[ident]
        await asyncio.sleep(0.6)
        stopped = ident not in tails()._tails and first.closed
        closed = first.response is not None and first.response.writer.is_closing()
        await portal.get(path, token)
        await portal.get(path, token)
        again = await kept_ready(ident)
        return stopped, closed, again is not first

    assert run(scenario()) == (True, True, True)


def test_a_log_read_once_is_not_followed(admin_user, make_container, unique_name):
    ident = make_container(unique_name, command=["sh", "-c", "echo a; sleep 300"])
    portal = Portal()
    token = token_of(admin_user)
    path = f"/api/v1/containers/{unique_name}/logs/"

    async def scenario() -> bool:
        await portal.get(path, token)  # the full path
        await portal.get(path, token)  # the quick path's first read of it
        await asyncio.sleep(0.3)
        return ident in tails()._tails

    assert run(scenario()) is False
    assert portal.quick == [False, True]


def test_no_more_than_max_tails_are_kept_and_one_in_use_is_not_given_up(
    admin_user, make_container, unique_name, monkeypatch
):
    monkeypatch.setattr(logtails, "MAX_TAILS", 1)
    first = make_container(unique_name, command=["sh", "-c", "echo a; sleep 300"])
    second = make_container(
        f"{unique_name}-2", command=["sh", "-c", "echo b; sleep 300"]
    )
    portal = Portal()
    token = token_of(admin_user)
    second_path = f"/api/v1/containers/{unique_name}-2/logs/"

    async def scenario() -> tuple[list[str], bytes, list[str]]:
        await keep_tail(portal, f"/api/v1/containers/{unique_name}/logs/", token, first)
        for _ in range(3):
            answer = await portal.get(second_path, token)
        await asyncio.sleep(0.2)
        while_used = list(tails()._tails)
        monkeypatch.setattr(logtails, "EVICT_SECONDS", 0.0)
        await keep_tail(portal, second_path, token, second)
        return while_used, answer[2], list(tails()._tails)

    while_used, answer, after = run(scenario())

    assert while_used == [first]
    assert b'"text":"b"' in answer  # read from the engine meanwhile
    assert after == [second]


# The tail itself, without an engine -----------------------------------------


def entry(n: int, stream: int = 1, size: int = 0) -> logtails.Entry:
    stamp = f"2026-12-05T03:00:00.{n:09d}Z"
    return stream, f"{stamp} {'x' * size}{n}\n".encode()


def fresh_tail() -> logtails._Tail:
    return logtails._Tail("c" * 64, asyncio.new_event_loop())


def test_entries_the_stream_repeats_before_the_seeds_last_are_not_kept_twice():
    tail = fresh_tail()
    tail.seed([entry(1), entry(2), entry(3)])
    assert not tail.ready

    for n in (1, 2, 3, 4):
        tail.add(entry(n))

    assert tail.ready
    assert [e[1][-2:] for e in tail.entries] == [b"1\n", b"2\n", b"3\n", b"4\n"]


def test_an_empty_log_is_followed_from_its_first_entry():
    tail = fresh_tail()
    tail.seed([])
    tail.add(entry(1, stream=2))

    assert tail.ready and tail.whole
    assert tail.last(100, False) == b"\x02\0\0\0\0\0\0\x021\n"


def test_identical_pieces_of_a_long_line_are_kept_as_often_as_the_engine_has_them():
    # The pieces of a line over 16 KiB share a stamp, and may be identical.
    piece = (1, b"2026-12-05T03:00:00.000000009Z " + b"a" * 16384)
    tail = fresh_tail()
    tail.seed([entry(1), piece, piece])
    assert tail.check_count() == 3

    tail.add(entry(1))
    tail.add(piece)
    assert not tail.ready  # the seed ended with two of them
    tail.add(piece)
    tail.add(piece)  # a third, written after the seed

    assert tail.ready
    assert list(tail.entries) == [entry(1), piece, piece, piece]
    assert tail.check_count() == 4


@pytest.mark.parametrize("pattern", ["xyx", "xxyxx", "xEx", "xxExx", "xEyEx"])
def test_a_long_line_whose_pieces_repeat_apart_is_kept_once(pattern):
    # A seed that ends inside a line of pieces x, y, x: the stream's first
    # x is not the seed's end. E is a line of the other stream, written
    # between two pieces.
    pieces = {
        letter: (1, b"2026-12-05T03:00:00.000000009Z " + letter.encode() * 16384)
        for letter in "xy"
    }
    pieces["E"] = entry(5, stream=2)
    message = [pieces[letter] for letter in pattern]
    tail = fresh_tail()
    tail.seed([entry(1), *message])

    for piece in [entry(1), *message]:
        assert not tail.ready
        tail.add(piece)
    tail.add(entry(2))

    assert tail.ready
    assert list(tail.entries) == [entry(1), *message, entry(2)]


def test_a_stream_that_gives_other_pieces_than_the_seed_is_given_up():
    piece = (1, b"2026-12-05T03:00:00.000000009Z " + b"x" * 16384)
    other = (1, b"2026-12-05T03:00:00.000000009Z " + b"y" * 16384)
    tail = fresh_tail()
    tail.seed([entry(1), piece])

    tail.add(other)

    assert not tail.ready and tail.skipped > logtails.MAX_SKIPPED
    assert list(tail.entries) == [entry(1), piece]


def test_a_tail_longer_than_what_is_kept_is_left_to_the_engine(monkeypatch):
    monkeypatch.setattr(logtails, "MAX_BYTES", 200)
    tail = fresh_tail()
    tail.seed([entry(n, size=20) for n in range(3)])
    assert tail.whole and tail.ready is False
    tail.add(entry(2, size=20))
    for n in range(3, 8):
        tail.add(entry(n, size=20))

    assert not tail.whole
    kept = len(tail.entries)
    assert tail.size <= 200 and kept < 8
    assert tail.last(kept + 1, False) is None
    assert tail.last(kept, True) is not None


def test_a_rendered_answer_is_kept_only_until_the_next_entry():
    tail = fresh_tail()
    tail.seed([entry(1)])
    renders: list[bytes] = []

    def render(data: bytes) -> bytes:
        renders.append(data)
        return b"rendered " + data

    first = tail.rendered(10, False, render)
    again = tail.rendered(10, False, render)
    tail.add(entry(1))
    tail.add(entry(2))
    after = tail.rendered(10, False, render)

    assert first == again == b"rendered " + tail_body([b"1\n"])
    assert after == b"rendered " + tail_body([b"1\n", b"2\n"])
    assert len(renders) == 2


def tail_body(lines: list[bytes]) -> bytes:
    return b"".join(
        b"\x01\0\0\0" + len(line).to_bytes(4, "big") + line for line in lines
    )
