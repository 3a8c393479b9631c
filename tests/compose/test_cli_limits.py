"""Files that would make the CLI run away are refused; a CLI that does not
answer in time is stopped with every process it started.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from apps.compose import cli
from apps.containers.environments import default_environment
from apps.containers.models import Environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, current in zip("abcdefghij", "bcdefghijk", strict=False):
        if len(lines) == levels:
            break
        lines.append(f"{current}: &{current} [{', '.join([f'*{previous}'] * 9)}]")
    return "services:\n  app:\n    image: x\nx-bomb:\n  " + "\n  ".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_the_cli_runs(
    admin_client, project_name, monkeypatch
):
    def no_cli(*args, **kwargs):
        raise AssertionError("the CLI ran on an alias bomb")

    monkeypatch.setattr(cli, "capture", no_cli)
    started = time.monotonic()

    response = admin_client.post(
        "/api/v1/compose/",
        {"name": project_name("bomb"), "compose": billion_laughs(), "env": ""},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_compose"
    assert "aliases" in body["message"] and "100,000" in body["message"]
    assert time.monotonic() - started < 10


def test_a_recursive_alias_is_refused(admin_client, project_name):
    looping = "services:\n  app: &app\n    image: x\n    labels: [*app]\n"
    response = admin_client.post(
        "/api/v1/compose/",
        {"name": project_name("loop"), "compose": looping, "env": ""},
        format="json",
    )

    assert response.status_code == 400
    assert "refers to itself" in response.json()["message"]


def test_a_deeply_nested_file_is_a_clear_400(admin_client, project_name):
    deep = "services:\n  app:\n    labels: " + "[" * 50000 + "]" * 50000 + "\n"
    response = admin_client.post(
        "/api/v1/compose/",
        {"name": project_name("deep"), "compose": deep, "env": ""},
        format="json",
    )

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]


def test_a_few_aliases_are_still_accepted(admin_client, project_name):
    shared = (
        "x-common: &common\n  image: dockpilot-test/none:1\n  pull_policy: never\n"
        "services:\n  one: *common\n  two: *common\n"
    )
    response = admin_client.post(
        "/api/v1/compose/",
        {"name": project_name("alias"), "compose": shared, "env": ""},
        format="json",
    )

    assert response.status_code == 201, response.json()


def _gone(pid: int) -> bool:
    # A zombie left for init to reap has stopped running: it counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in ("Z", "X")


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.1)
    return _gone(pid)


@pytest.fixture
def environment() -> Environment:
    return default_environment()


def test_a_timed_out_command_leaves_no_process_behind(environment, tmp_path):
    # Like docker and its compose plugin: a wrapper whose child does the work.
    pid_file = tmp_path / "child.pid"
    argv = ["sh", "-c", f"sleep 120 & echo $! > {pid_file}; wait"]

    with pytest.raises(cli.ComposeTimeout) as raised:
        cli.capture(environment, argv, timeout=1)

    assert raised.value.status_code == 504
    assert raised.value.code == "compose_timeout"
    child = int(pid_file.read_text())
    assert _wait_gone(child), f"the child {child} still runs"


def test_a_stopped_stream_leaves_no_process_behind(environment, tmp_path):
    pid_file = tmp_path / "child.pid"
    argv = ["sh", "-c", f"sleep 120 & echo $! > {pid_file}; echo started; wait"]
    started = time.monotonic()

    returncode, last = cli.stream(environment, argv, lambda line: None, timeout=1)

    assert returncode != 0
    assert last[-1] == "(stopped after 1 s)"
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    assert _wait_gone(child), f"the child {child} still runs"


def test_a_canceled_stream_leaves_no_process_behind(environment, tmp_path):
    pid_file = tmp_path / "child.pid"
    argv = ["sh", "-c", f"sleep 120 & echo $! > {pid_file}; echo started; wait"]
    stops = []

    def on_line(line: str) -> None:
        if line == "started":
            stops[0]()  # what a cancel of the job calls

    returncode, _ = cli.stream(
        environment, argv, on_line, timeout=60, on_start=stops.append
    )

    assert returncode != 0
    child = int(pid_file.read_text())
    assert _wait_gone(child), f"the child {child} still runs"
