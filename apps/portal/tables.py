"""Searching, filtering, sorting and counting the lists that pages show.

The engine filters by exact fields; people type part of a name, so search
and sort run here on the one list the engine returned.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

CONTAINER_SORTS = {
    "name": lambda c: c["name"].lower(),
    "image": lambda c: c["image"].lower(),
    "state": lambda c: (c["state"], c["name"].lower()),
    "created": lambda c: c["created"],
}
STATE_FILTERS = ("running", "exited", "paused", "created", "restarting", "dead")


def _matches(container: dict[str, Any], words: list[str]) -> bool:
    haystack = " ".join(
        [
            container["name"],
            container["image"],
            container["id"][:12],
            container["status"],
        ]
    ).lower()
    return all(word in haystack for word in words)


def _has_label(container: dict[str, Any], label: str) -> bool:
    key, sep, value = label.partition("=")
    labels = container["labels"]
    return key in labels and (not sep or labels[key] == value)


def filter_containers(
    containers: list[dict[str, Any]], params: dict[str, str]
) -> list[dict[str, Any]]:
    """Apply the list page's search (q), state, project, image, label and sort."""
    words = params.get("q", "").lower().split()
    kept = [c for c in containers if _matches(c, words)]
    if state := params.get("state"):
        kept = [c for c in kept if c["state"] == state]
    if project := params.get("project"):
        kept = [c for c in kept if c["compose_project"] == project]
    if image := params.get("image"):
        kept = [c for c in kept if c["image"] == image]
    if label := params.get("label"):
        kept = [c for c in kept if _has_label(c, label)]
    sort = params.get("sort", "name")
    descending = sort.startswith("-")
    key = CONTAINER_SORTS.get(sort.lstrip("-"), CONTAINER_SORTS["name"])
    return sorted(kept, key=key, reverse=descending)


def container_counts(containers: list[dict[str, Any]]) -> dict[str, int]:
    states = Counter(c["state"] for c in containers)
    return {
        "total": len(containers),
        "running": states["running"],
        "stopped": states["exited"] + states["created"] + states["dead"],
        "paused": states["paused"],
        "unhealthy": sum(1 for c in containers if c["health"] == "unhealthy"),
    }


def facets(containers: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The values a filter can take, from what the list holds."""
    return {
        "projects": sorted({c["compose_project"] for c in containers} - {None}),
        "images": sorted({c["image"] for c in containers}),
    }


def image_users(containers: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Container names by the image id they run, for the images list."""
    users: dict[str, list[str]] = {}
    for container in containers:
        users.setdefault(container["image_id"], []).append(container["name"])
    return users
