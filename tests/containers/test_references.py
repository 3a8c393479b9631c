"""Image references: what the portal accepts before the engine sees them."""

import pytest

from apps.containers.references import (
    looks_like_id,
    parse_reference,
    split_repo_digest,
    split_repo_tag,
)
from dockpilot.errors import BadRequest

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("busybox", "", "busybox", "latest", ""),
        ("busybox:1.36", "", "busybox", "1.36", ""),
        ("library/busybox", "", "library/busybox", "latest", ""),
        ("dockpilot-test/busybox:1", "", "dockpilot-test/busybox", "1", ""),
        ("a__b/c.d-e:v1_2", "", "a__b/c.d-e", "v1_2", ""),
        ("localhost/x", "localhost", "localhost/x", "latest", ""),
        (
            "localhost:5000/team/app:2",
            "localhost:5000",
            "localhost:5000/team/app",
            "2",
            "",
        ),
        ("127.0.0.1:5000/x:1", "127.0.0.1:5000", "127.0.0.1:5000/x", "1", ""),
        ("[::1]:5000/x", "[::1]:5000", "[::1]:5000/x", "latest", ""),
        (
            "Registry.Example.com/x",
            "Registry.Example.com",
            "Registry.Example.com/x",
            "latest",
            "",
        ),
        (f"busybox@{DIGEST}", "", "busybox", "", DIGEST),
        (f"busybox:1@{DIGEST}", "", "busybox", "1", DIGEST),
        ("busybox:Latest", "", "busybox", "Latest", ""),
    ],
)
def test_valid_references_are_split_into_their_parts(
    text, registry, repository, tag, digest
):
    reference = parse_reference(text)

    assert (
        reference.registry,
        reference.repository,
        reference.tag,
        reference.digest,
    ) == (registry, repository, tag, digest)


def test_the_latest_tag_is_only_added_when_asked():
    assert parse_reference("busybox", default_tag=False).tag == ""
    assert str(parse_reference("busybox")) == "busybox:latest"
    assert str(parse_reference(f"x@{DIGEST}")) == f"x@{DIGEST}"


def test_surrounding_spaces_are_ignored():
    assert parse_reference("  busybox:1  ").repository == "busybox"


@pytest.mark.parametrize("text", ["Busybox", "library/BusyBox:1", "localhost:5000/Foo"])
def test_an_uppercase_repository_is_refused_with_the_reason(text):
    with pytest.raises(BadRequest) as caught:
        parse_reference(text)

    assert "lowercase" in str(caught.value.detail)
    assert caught.value.details == {"field": "image"}


@pytest.mark.parametrize(
    "text",
    [
        "a b",
        "a//b",
        "a:",
        ":tag",
        "-a",
        "a-",
        "a._b",
        "x:" + "t" * 129,
        "x:t\u00e5g",
        "x:-tag",
        "x@sha256:short",
        "x@sha256:" + "z" * 64,
        "a/b/",
        "http://registry/x",
    ],
)
def test_malformed_references_are_refused_naming_the_field(text):
    with pytest.raises(BadRequest) as caught:
        parse_reference(text, field="source")

    message = str(caught.value.detail)
    assert message.startswith("source: ")
    assert caught.value.details == {"field": "source"}


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_reference_asks_for_one(text):
    with pytest.raises(BadRequest, match="give an image reference"):
        parse_reference(text)


@pytest.mark.parametrize(
    ("repo_tag", "expected"),
    [
        ("busybox:1.36", ("busybox", "1.36")),
        ("busybox", ("busybox", "")),
        ("127.0.0.1:5000/x:1", ("127.0.0.1:5000/x", "1")),
        ("127.0.0.1:5000/x", ("127.0.0.1:5000/x", "")),
        (f"x@{DIGEST}", ("x", "")),
        ("<none>:<none>", ("<none>", "<none>")),
    ],
)
def test_repo_tags_split_at_the_tag_colon_not_the_port(repo_tag, expected):
    assert split_repo_tag(repo_tag) == expected


def test_repo_digests_split_at_the_at_sign():
    assert split_repo_digest(f"busybox@{DIGEST}") == ("busybox", DIGEST)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0123456789ab", True),
        ("ab" * 32, True),
        (DIGEST, True),
        ("0123456789a", False),
        ("busybox", False),
        ("0123456789AB", False),
    ],
)
def test_image_ids_are_told_from_names(text, expected):
    assert looks_like_id(text) is expected
