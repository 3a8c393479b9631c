"""The project's files on disk, where the ``docker compose`` CLI reads them."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from dockpilot.errors import Conflict

logger = logging.getLogger("dockpilot.compose.files")

COMPOSE_FILE = "compose.yaml"
ENV_FILE = ".env"
LOCK_FILE = ".lock"


def projects_root() -> Path:
    root = Path(settings.DATA_DIR) / "projects"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def folder_of(name: str) -> Path:
    """``DATA_DIR/projects/<name>``; ``name`` was checked by names.py."""
    return projects_root() / name


def _write(path: Path, text: str) -> None:
    # Written beside and renamed: a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def write_files(name: str, compose_yaml: str, env_text: str) -> Path:
    """Write (or replace) the project's compose.yaml and .env exactly as given."""
    folder = folder_of(name)
    folder.mkdir(mode=0o700, exist_ok=True)
    _write(folder / COMPOSE_FILE, compose_yaml)
    _write(folder / ENV_FILE, env_text)
    logger.info("wrote the files of compose project %s", name)
    return folder


def remove_files(name: str) -> None:
    shutil.rmtree(folder_of(name), ignore_errors=True)


@contextlib.contextmanager
def staged(compose_yaml: str, env_text: str) -> Iterator[Path]:
    """A scratch folder holding files to validate before they are saved."""
    folder = Path(tempfile.mkdtemp(prefix=".staged-", dir=projects_root()))
    try:
        _write(folder / COMPOSE_FILE, compose_yaml)
        _write(folder / ENV_FILE, env_text)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def operation_lock(name: str) -> Iterator[None]:
    """Hold the project's lock file while the CLI works on it.

    The API already refuses a second operation with 409; this lock keeps two
    workers from ever running the CLI on one project at once, even if a job
    was marked lost while its worker still ran.
    """
    folder = folder_of(name)
    folder.mkdir(mode=0o700, exist_ok=True)
    with open(folder / LOCK_FILE, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict(
                f"compose project '{name}' is busy with another operation; "
                "wait for it to end.",
                code="project_busy",
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
