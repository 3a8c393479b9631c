"""Checking an uploaded build context and repacking it for the engine.

An upload (tar, tar.gz or zip) is read entry by entry before anything is
used: no absolute paths, no ``..``, no links that point outside the
context, no device files or pipes, and size limits on the upload and on
what it unpacks to. What passes is written again as a plain tar, owned by
root, with ``.dockerignore`` applied, so the engine only sees checked input.
"""

from __future__ import annotations

import io
import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockpilot.errors import BadRequest

from . import dockerignore

MAX_ENTRIES = 50_000
_ALWAYS_SENT = {".dockerignore"}


@dataclass
class Entry:
    name: str
    kind: str  # "file", "dir", "symlink" or "hardlink"
    mode: int
    size: int = 0
    link: str = ""
    read: Callable[[], IO[bytes]] | None = None


def refuse(message: str) -> BadRequest:
    return BadRequest(
        f"context: {message}", code="bad_context", details={"field": "context"}
    )


def clean_name(raw: str) -> str:
    """The entry's path inside the context; refuses anything that leaves it."""
    if "\\" in raw:
        raise refuse(f"'{raw}' uses backslashes; pack the archive with '/' paths.")
    if raw.startswith("/"):
        raise refuse(f"'{raw}' is an absolute path; archive paths must be relative.")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise refuse(f"'{raw}' climbs out of the context with '..'.")
    return "/".join(parts)


def _check_link(entry: Entry) -> None:
    target = entry.link
    if entry.kind == "hardlink":
        entry.link = clean_name(target)
        return
    if target.startswith("/"):
        raise refuse(f"'{entry.name}' links to the absolute path '{target}'.")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise refuse(f"'{entry.name}' links to '{target}', outside the context.")


def _tar_entries(upload: IO[bytes]) -> Iterator[Entry]:
    try:
        archive = tarfile.open(fileobj=upload, mode="r:*")  # noqa: SIM115
    except tarfile.TarError as exc:
        raise refuse(f"not a tar, tar.gz or zip archive ({exc}).") from exc
    for member in archive:
        yield _tar_entry(archive, member)


def _tar_entry(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Entry:
    name = clean_name(member.name)
    if member.isdir():
        return Entry(name, "dir", member.mode)
    if member.issym():
        return Entry(name, "symlink", member.mode, link=member.linkname)
    if member.islnk():
        return Entry(name, "hardlink", member.mode, link=member.linkname)
    if member.isfile():
        return Entry(
            name,
            "file",
            member.mode,
            member.size,
            read=lambda: archive.extractfile(member),  # type: ignore[arg-type,return-value]
        )
    raise refuse(f"'{member.name}' is a device, pipe or other special file.")


def _zip_entries(upload: IO[bytes]) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile as exc:
        raise refuse(f"the zip archive is damaged ({exc}).") from exc
    for info in archive.infolist():
        yield _zip_entry(archive, info)


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Entry:
    name = clean_name(info.filename)
    mode = info.external_attr >> 16
    kind_bits = stat.S_IFMT(mode)
    permissions = stat.S_IMODE(mode) or 0o644
    if info.is_dir():
        return Entry(name, "dir", permissions or 0o755)
    if kind_bits == stat.S_IFLNK:
        link = archive.read(info).decode("utf-8", "replace")
        return Entry(name, "symlink", 0o777, link=link)
    if kind_bits not in (0, stat.S_IFREG):
        raise refuse(f"'{info.filename}' is a device, pipe or other special file.")
    return Entry(
        name, "file", permissions, info.file_size, read=lambda: archive.open(info)
    )


def _entries(upload: IO[bytes]) -> Iterator[Entry]:
    head = upload.read(4)
    upload.seek(0)
    return _zip_entries(upload) if head.startswith(b"PK") else _tar_entries(upload)


def read_entries(upload: IO[bytes], max_bytes: int) -> list[Entry]:
    """Every entry of the upload, checked; raises a 400 at the first bad one."""
    try:
        return _checked(upload, max_bytes)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise refuse(f"the archive is damaged or truncated ({exc}).") from exc


def _checked(upload: IO[bytes], max_bytes: int) -> list[Entry]:
    entries: list[Entry] = []
    total = 0
    for entry in _entries(upload):
        if entry.kind in ("symlink", "hardlink"):
            _check_link(entry)
        total += entry.size
        if total > max_bytes:
            raise refuse(f"it unpacks to more than {max_bytes // 1_000_000} MB.")
        entries.append(entry)
        if len(entries) > MAX_ENTRIES:
            raise refuse(f"it holds more than {MAX_ENTRIES} entries.")
    names = {e.name for e in entries}
    for entry in entries:
        if entry.kind == "hardlink" and entry.link not in names:
            raise refuse(f"'{entry.name}' is a hard link to '{entry.link}', not in it.")
    return entries


def _ignore_patterns(entries: list[Entry]) -> list[dockerignore.Pattern]:
    for entry in entries:
        if entry.name == ".dockerignore" and entry.kind == "file" and entry.read:
            with entry.read() as handle:
                return dockerignore.parse(
                    handle.read(1_000_000).decode("utf-8", "replace")
                )
    return []


def _tar_info(entry: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.name)
    info.mode = entry.mode & 0o7777
    info.uid = info.gid = 0
    info.type = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
    }[entry.kind]
    info.linkname = entry.link
    info.size = entry.size if entry.kind == "file" else 0
    return info


def write_context(
    destination: Path,
    *,
    upload: IO[bytes] | None,
    dockerfile_text: str,
    dockerfile_path: str,
    max_bytes: int,
) -> dict[str, int]:
    """Write the checked context to ``destination``; returns what it holds."""
    dockerfile_path = clean_name(dockerfile_path) or "Dockerfile"
    entries = read_entries(upload, max_bytes) if upload is not None else []
    patterns = _ignore_patterns(entries)
    kept = [
        e
        for e in entries
        if e.name
        and (
            e.name in _ALWAYS_SENT
            or e.name == dockerfile_path
            or not dockerignore.excluded(e.name, patterns)
        )
        and not (dockerfile_text and e.name == dockerfile_path)
    ]
    if not dockerfile_text and not any(
        e.name == dockerfile_path and e.kind == "file" for e in kept
    ):
        raise refuse(
            f"there is no Dockerfile at '{dockerfile_path}'; add one or name it "
            "with dockerfile_path."
        )
    with tarfile.open(destination, "w") as out:
        for entry in kept:
            _add(out, entry)
        if dockerfile_text:
            data = dockerfile_text.encode()
            info = tarfile.TarInfo(dockerfile_path)
            info.size, info.mode = len(data), 0o644
            out.addfile(info, io.BytesIO(data))
    return {
        "entries": len(kept) + bool(dockerfile_text),
        "ignored": len(entries) - len(kept),
    }


def _add(out: tarfile.TarFile, entry: Entry) -> None:
    info = _tar_info(entry)
    if entry.kind == "file" and entry.read is not None:
        with entry.read() as handle:
            out.addfile(info, handle)
    else:
        out.addfile(info)
