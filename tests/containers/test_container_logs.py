"""Reading container logs through the API, from containers on the real engine."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
from docker.types import LogConfig

from tests.conftest import LABELS, RUN_ID

pytestmark = pytest.mark.django_db

URL = "/api/v1/containers/"

COUNTED = "i=1; while [ $i -le 150 ]; do echo line-$i; i=$((i+1)); done"
# The pause puts a whole second boundary between the early and the late lines.
STREAMS = (
    "echo early-out; echo early-err >&2; printf 'bad \\377 byte\\n'; "
    "sleep 1.3; echo late-out; echo late-err >&2"
)
# 16383 bytes then "é": the engine's 16 KiB buffer cuts the line inside the
# character. The "local" driver keeps the raw bytes (json-file would store
# U+FFFD in place of each half).
CUT = (
    r"head -c 16383 /dev/zero | tr '\0' a; printf '\303\251 end\n'; echo next; "
    r"printf 'raw \377 byte\n' >&2"
)


@pytest.fixture(scope="module")
def logged(docker_client, test_image):
    """Containers that wrote their output and exited, by role."""
    ids: dict[str, str] = {}
    scripts = {
        "counted": (COUNTED, {}),
        "streams": (STREAMS, {}),
        "cut": (CUT, {"log_config": LogConfig(type="local")}),
    }
    try:
        for role, (script, host) in scripts.items():
            created = docker_client.api.create_container(
                test_image,
                command=["sh", "-c", script],
                name=f"dpt-{RUN_ID}-{role}-{uuid.uuid4().hex[:6]}",
                labels=LABELS,
                host_config=docker_client.api.create_host_config(**host),
            )
            ids[role] = created["Id"]
            docker_client.api.start(created["Id"])
        for ident in ids.values():
            assert docker_client.api.wait(ident, timeout=15)["StatusCode"] == 0
        yield ids
    finally:
        for ident in ids.values():
            docker_client.api.remove_container(ident, force=True, v=True)


def read(client, ident: str, **params):
    return client.get(f"{URL}{ident}/logs/", params)


def texts(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [line["text"] for line in response.json()["lines"]]


def by_stream(response) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for line in response.json()["lines"]:
        lines[line["stream"]].append(line["text"])
    return lines


def moment(raw: str) -> datetime:
    # The engine sends nanoseconds; Python reads up to microseconds.
    head, _, fraction = raw.removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")


def stamp(client, ident: str, text: str) -> datetime:
    lines = read(client, ident, timestamps="true").json()["lines"]
    return moment(next(line["timestamp"] for line in lines if line["text"] == text))


# -- how much is read ------------------------------------------------------


def test_logs_default_to_the_last_100_lines(viewer_client, logged):
    response = read(viewer_client, logged["counted"])

    lines = texts(response)
    assert len(lines) == 100
    assert (lines[0], lines[-1]) == ("line-51", "line-150")
    assert response.json()["id"] == logged["counted"]


@pytest.mark.parametrize(
    ("tail", "first", "count"),
    [(5, "line-146", 5), (1, "line-150", 1), (10000, "line-1", 150)],
)
def test_logs_tail(viewer_client, logged, tail, first, count):
    lines = texts(read(viewer_client, logged["counted"], tail=tail))

    assert len(lines) == count
    assert lines[0] == first


def test_a_tail_of_zero_reads_nothing_not_the_whole_log(viewer_client, logged):
    assert texts(read(viewer_client, logged["counted"], tail=0)) == []


@pytest.mark.parametrize("tail", [-1, 10001, "all", "ten"])
def test_logs_refuse_a_tail_out_of_bounds(viewer_client, logged, tail):
    response = read(viewer_client, logged["counted"], tail=tail)

    assert response.status_code == 400
    assert response.json()["message"].startswith("tail: ")


def test_logs_with_timestamps(viewer_client, logged):
    response = read(viewer_client, logged["counted"], tail=3, timestamps="true")

    lines = response.json()["lines"]
    assert [line["text"] for line in lines] == ["line-148", "line-149", "line-150"]
    moments = [moment(line["timestamp"]) for line in lines]
    assert moments == sorted(moments)
    assert all(line["timestamp"].endswith("Z") for line in lines)


def test_logs_without_timestamps_carry_none(viewer_client, logged):
    lines = read(viewer_client, logged["counted"], tail=3).json()["lines"]

    assert all(set(line) == {"stream", "text"} for line in lines)


# -- streams and bytes -----------------------------------------------------


def test_stdout_and_stderr_are_kept_apart(viewer_client, logged):
    lines = by_stream(read(viewer_client, logged["streams"]))

    assert lines == {
        "stdout": ["early-out", "bad \ufffd byte", "late-out"],
        "stderr": ["early-err", "late-err"],
    }


def test_logs_of_one_stream_only(viewer_client, logged):
    errors = read(viewer_client, logged["streams"], stdout="false")
    output = read(viewer_client, logged["streams"], stderr="false")

    assert by_stream(errors)["stdout"] == [] and len(by_stream(errors)["stderr"]) == 2
    assert by_stream(output)["stderr"] == [] and len(by_stream(output)["stdout"]) == 3


def test_logs_need_at_least_one_stream(viewer_client, logged):
    response = read(viewer_client, logged["streams"], stdout="false", stderr="false")

    assert response.status_code == 400
    assert response.json()["message"].startswith("stdout: ")


def test_invalid_utf8_is_replaced(viewer_client, logged):
    lines = by_stream(read(viewer_client, logged["cut"]))

    assert lines["stderr"] == ["raw \ufffd byte"]


def test_a_character_cut_by_the_engine_is_joined(viewer_client, logged):
    lines = by_stream(read(viewer_client, logged["cut"]))

    assert lines["stdout"] == ["a" * 16383 + "é end", "next"]


def test_a_cut_line_keeps_one_timestamp(viewer_client, logged):
    response = read(viewer_client, logged["cut"], timestamps="true", stderr="false")

    lines = response.json()["lines"]
    assert [line["text"] for line in lines] == ["a" * 16383 + "é end", "next"]
    assert all(line["timestamp"] for line in lines)


# -- since and until -------------------------------------------------------


def test_logs_since_a_unix_time(viewer_client, logged):
    late = stamp(viewer_client, logged["streams"], "late-out")

    lines = texts(read(viewer_client, logged["streams"], since=int(late.timestamp())))

    assert sorted(lines) == ["late-err", "late-out"]


def test_logs_until_a_unix_time(viewer_client, logged):
    early = stamp(viewer_client, logged["streams"], "early-out")

    lines = texts(
        read(viewer_client, logged["streams"], until=int(early.timestamp()) + 1)
    )

    assert sorted(lines) == ["bad \ufffd byte", "early-err", "early-out"]


def test_logs_since_an_iso_time(viewer_client, logged):
    late = stamp(viewer_client, logged["streams"], "late-out")
    since = late.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    lines = texts(read(viewer_client, logged["streams"], since=since))

    assert sorted(lines) == ["late-err", "late-out"]


def test_logs_since_a_duration_ago(viewer_client, logged):
    assert len(texts(read(viewer_client, logged["streams"], since="1h"))) == 5
    assert (
        texts(
            read(viewer_client, logged["streams"], until=str(int(time.time()) - 86400))
        )
        == []
    )


@pytest.mark.parametrize(
    ("param", "value", "fragment"),
    [
        ("since", "yesterday", "is not a time"),
        ("until", "2026-01-01T00:00:00", "time zone"),
        ("since", "-5", "is not a time"),
        ("since", "15x", "is not a time"),
    ],
)
def test_logs_refuse_a_time_they_cannot_read(
    viewer_client, logged, param, value, fragment
):
    response = read(viewer_client, logged["streams"], **{param: value})

    assert response.status_code == 400
    error = response.json()
    assert error["message"].startswith(f"{param}: ")
    assert fragment in error["message"]
    assert error["details"] == {"field": param}


# -- containers of other kinds ---------------------------------------------


def test_logs_of_a_tty_container(
    operator_client, docker_client, test_image, unique_name
):
    created = operator_client.post(
        URL,
        {
            "image": test_image,
            "name": unique_name,
            "labels": LABELS,
            "tty": True,
            "command": [
                "sh",
                "-c",
                "echo tty-out; echo tty-err >&2; printf '\\377\\n'",
            ],
            "start": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert docker_client.api.wait(unique_name, timeout=10)["StatusCode"] == 0

    response = read(operator_client, unique_name, timestamps="true")

    lines = response.json()["lines"]
    assert [(line["stream"], line["text"]) for line in lines] == [
        ("stdout", "tty-out"),
        ("stdout", "tty-err"),
        ("stdout", "\ufffd"),
    ]
    assert all(line["timestamp"] for line in lines)


def test_logs_of_a_running_container(viewer_client, make_container, unique_name):
    ident = make_container(unique_name, command=["sh", "-c", "echo up; sleep 300"])

    deadline = time.monotonic() + 5
    lines: list[str] = []
    for _ in range(50):
        lines = texts(read(viewer_client, ident))
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert lines == ["up"]


def test_logs_of_a_container_never_started_are_empty(
    viewer_client, make_container, unique_name
):
    ident = make_container(unique_name, start=False)

    assert texts(read(viewer_client, ident)) == []


# -- errors and access -----------------------------------------------------


def test_logs_of_an_unknown_container_are_404(viewer_client, docker_client):
    response = read(viewer_client, f"dpt-{RUN_ID}-no-such-container")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_logs_in_an_unknown_environment_are_404(viewer_client, logged):
    response = read(viewer_client, logged["counted"], environment="nope")

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"


def test_anonymous_cannot_read_logs(anon_client, logged):
    assert read(anon_client, logged["counted"]).status_code == 401


def test_operator_reads_logs_by_name(operator_client, docker_client, logged):
    name = docker_client.api.inspect_container(logged["counted"])["Name"].lstrip("/")

    assert texts(read(operator_client, name, tail=1)) == ["line-150"]
