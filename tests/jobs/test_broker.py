"""The embedded broker (kombu's filesystem transport, apps/jobs/broker.py):
a message file is never seen half-written, and a worker that meets an
unreadable one drops it and goes on running jobs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from kombu import Connection

from apps.jobs import broker
from apps.jobs.models import Status
from tests.conftest import LABELS

from .conftest import wait_finished
from .services import start_worker, stop, worker_env


def _connection(folder: Path) -> Connection:
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Connection(
        transport="apps.jobs.broker:Transport",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "data_folder_processed": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        },
    )


def test_a_message_file_appears_under_its_name_only_when_whole(tmp_path, monkeypatch):
    queue_folder = tmp_path / "queue"
    seen: list[dict[str, Any]] = []
    rename = os.replace

    def watching_replace(source: str, target: str) -> None:
        # What a polling consumer would find just before the file appears.
        seen.append(
            {
                "names": sorted(os.listdir(queue_folder)),
                "body": json.loads(Path(source).read_text()),
            }
        )
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", watching_replace)

    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("dpt-broker")
        queue.put({"job": "one"})
        assert len(seen) == 1
        assert not [name for name in seen[0]["names"] if name.endswith(".msg")]
        assert [path.suffix for path in queue_folder.iterdir()] == [".msg"]
        assert queue.get(timeout=5).payload == {"job": "one"}
        queue.close()


def test_an_unreadable_message_file_is_dropped_and_the_next_one_delivered(
    tmp_path,
):
    with _connection(tmp_path) as connection:
        # kombu keeps bindings per process: each test has a queue of its own.
        queue = connection.SimpleQueue("dpt-broker-unreadable")
        # Sorted before anything kombu writes: the consumer meets it first.
        (tmp_path / "queue" / "0_broken.dpt-broker-unreadable.msg").write_bytes(b"")
        queue.put({"job": "two"})

        assert queue.get(timeout=5).payload == {"job": "two"}
        assert [p.name for p in (tmp_path / "queue").iterdir()] == []
        queue.close()


@pytest.fixture
def embedded_worker(django_db_setup, tmp_path) -> Iterator[Path]:
    """A real worker on the embedded broker of this test run's data directory."""
    log = tmp_path / "worker.log"
    process = start_worker(worker_env(), log, "dpt-broker")
    yield log
    stop(process)


@pytest.mark.django_db(transaction=True)
@pytest.mark.engine
def test_a_worker_that_meets_an_unreadable_message_still_runs_the_next_job(
    embedded_worker, admin_client, test_image, unique_name
):
    queue_folder = Path(settings.DATA_DIR) / "broker" / "queue"
    (queue_folder / "0_broken.celery.msg").write_bytes(b"")

    response = admin_client.post(
        "/api/v1/images/build",
        {
            "dockerfile": f"FROM {test_image}\nRUN echo after-the-broken-file\n",
            "tags": [f"{unique_name}/after-broken:1"],
            "labels": LABELS,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()

    finished = wait_finished(response.json()["id"])
    assert finished.status == Status.SUCCEEDED, finished.error
    assert "dropped an unreadable message file" in embedded_worker.read_text()
