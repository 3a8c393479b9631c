"""Checking uploaded build contexts, and .dockerignore matching."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from apps.containers import dockerignore
from apps.containers.buildcontext import write_context
from apps.containers.services.pulls import PullProgress
from dockpilot.errors import BadRequest


def tar(*members: tarfile.TarInfo, gz: bool = False) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for member in members:
            data = io.BytesIO(b"x" * member.size) if member.isfile() else None
            archive.addfile(member, data)
    buffer.seek(0)
    return buffer


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


def write(upload, tmp_path, dockerfile_text: str = "") -> list[str]:
    out = tmp_path / "out.tar"
    write_context(
        out,
        upload=upload,
        dockerfile_text=dockerfile_text,
        dockerfile_path="Dockerfile",
        max_bytes=10_000,
    )
    with tarfile.open(out) as archive:
        return sorted(archive.getnames())


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (member("/etc/passwd"), "absolute path"),
        (member("a/../../x"), "climbs out"),
        (member("link", tarfile.SYMTYPE, "../../etc"), "outside the context"),
        (member("link", tarfile.SYMTYPE, "/etc/shadow"), "absolute path"),
        (member("hard", tarfile.LNKTYPE, "../x"), "climbs out"),
        (member("dev", tarfile.CHRTYPE), "device"),
        (member("fifo", tarfile.FIFOTYPE), "device"),
    ],
)
def test_entries_that_leave_the_context_are_refused(bad, message, tmp_path):
    with pytest.raises(BadRequest, match=message):
        write(tar(member("Dockerfile"), bad), tmp_path)


def test_links_inside_the_context_are_kept(tmp_path):
    upload = tar(
        member("Dockerfile"),
        member("a/file"),
        member("a/link", tarfile.SYMTYPE, "file"),
        member("a/up", tarfile.SYMTYPE, "../Dockerfile"),
    )

    assert write(upload, tmp_path) == ["Dockerfile", "a/file", "a/link", "a/up"]


def test_dockerignore_is_honoured_but_keeps_the_dockerfile(tmp_path):
    ignore = member(".dockerignore", size=0)
    buffer = io.BytesIO()
    rules = b"*.log\nbuild/\n!build/keep\nDockerfile\n"
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in (
            member("Dockerfile"),
            member("a.log"),
            member("sub/b.log"),
            member("build/out"),
            member("build/keep"),
            member("src/main"),
        ):
            archive.addfile(info, io.BytesIO(b"x"))
        ignore.size = len(rules)
        archive.addfile(ignore, io.BytesIO(rules))
    buffer.seek(0)

    kept = write(buffer, tmp_path)

    assert kept == [
        ".dockerignore",
        "Dockerfile",
        "build/keep",
        "src/main",
        "sub/b.log",
    ]


def test_zip_uploads_are_checked_the_same_way(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Dockerfile", "FROM scratch\n")
        archive.writestr("../evil", "x")
    buffer.seek(0)

    with pytest.raises(BadRequest, match="climbs out"):
        write(buffer, tmp_path)


def test_a_context_that_unpacks_too_large_is_refused(tmp_path):
    with pytest.raises(BadRequest, match="unpacks to more than"):
        write(tar(member("Dockerfile"), member("big", size=20_000), gz=True), tmp_path)


def test_garbage_is_not_an_archive(tmp_path):
    with pytest.raises(BadRequest, match="not a tar"):
        write(io.BytesIO(b"hello, not an archive" * 10), tmp_path)


def test_a_context_without_dockerfile_is_refused_unless_text_is_given(tmp_path):
    with pytest.raises(BadRequest, match="no Dockerfile"):
        write(tar(member("src")), tmp_path)
    assert write(tar(member("src")), tmp_path, "FROM scratch\n") == [
        "Dockerfile",
        "src",
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),
        ("**/*.md", "docs/README.md", True),
        ("docs", "docs/a/b.txt", True),
        ("/tmp/", "tmp/x", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
    ],
)
def test_dockerignore_patterns_follow_the_cli(pattern, path, excluded):
    assert dockerignore.excluded(path, dockerignore.parse(pattern)) is excluded


def test_pull_progress_counts_layers_and_skips_small_steps():
    progress = PullProgress()
    shown = [
        progress.update(
            {"status": "Pulling fs layer", "id": "a", "progressDetail": {}}
        ),
        progress.update(
            {
                "status": "Downloading",
                "id": "a",
                "progressDetail": {"current": 10, "total": 1000},
            }
        ),
        progress.update(
            {
                "status": "Downloading",
                "id": "a",
                "progressDetail": {"current": 20, "total": 1000},
            }
        ),
        progress.update(
            {
                "status": "Downloading",
                "id": "a",
                "progressDetail": {"current": 500, "total": 1000},
            }
        ),
    ]

    assert shown[2] is None  # still in the same tenth of the layer
    assert shown[3] is not None and shown[3][1]["current"] == 500
    assert progress.percent() == 25
    progress.update({"status": "Pull complete", "id": "a"})
    assert progress.percent() == 100
