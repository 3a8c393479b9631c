"""Parsing and validating image references (``registry:port/ns/name:tag@digest``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockpilot.errors import BadRequest

# Grammar of the distribution reference, reduced to what the engine accepts.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$",
    re.ASCII,  # a tag's \w is ASCII only, as in the engine's grammar
)
_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str
    digest: str

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_domain(text: str) -> tuple[str, str]:
    # The first component is a registry only when it looks like a host: it
    # has a dot or a port, or is localhost. "library/busybox" has none.
    first, sep, rest = text.partition("/")
    if sep and (
        ("." in first)
        or (":" in first)
        or first == "localhost"
        or first.startswith("[")
    ):
        return first, rest
    return "", text


def parse_reference(
    text: str, field: str = "image", default_tag: bool = True
) -> Reference:
    """Parse ``text`` or raise a 400 that names ``field`` and what is wrong."""
    text = (text or "").strip()
    if not text:
        raise BadRequest(
            f"{field}: give an image reference such as busybox:1.36.",
            details={"field": field},
        )
    domain, remainder = _split_domain(text)
    path = remainder.split("@", 1)[0].partition(":")[0]
    if path != path.lower():
        raise BadRequest(
            f"{field}: '{text}' has uppercase letters in the repository name; "
            "image names must be lowercase.",
            details={"field": field},
        )
    match = _REFERENCE.match(text)
    if not match:
        raise BadRequest(
            f"{field}: '{text}' is not a valid image reference; use "
            "[registry[:port]/]name[:tag][@sha256:digest].",
            details={"field": field},
        )

    tag = match.group("tag") or ""
    digest = match.group("digest") or ""
    if not tag and not digest and default_tag:
        tag = "latest"
    repository = f"{domain}/{path}" if domain else path
    return Reference(registry=domain, repository=repository, tag=tag, digest=digest)


def split_repo_tag(repo_tag: str) -> tuple[str, str]:
    """Split an engine ``RepoTags`` entry, minding a registry port's colon."""
    if "@" in repo_tag:
        return repo_tag.split("@", 1)[0], ""
    head, sep, tail = repo_tag.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return repo_tag, ""


def split_repo_digest(repo_digest: str) -> tuple[str, str]:
    repository, _, digest = repo_digest.partition("@")
    return repository, digest


def looks_like_id(text: str) -> bool:
    return bool(_ID.match(text))
