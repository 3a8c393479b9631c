"""Walking the URL configuration: every API route and the methods it takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

MUTATING = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    view: Any
    methods: tuple[str, ...]

    def path(self, value: str = "dpt-missing") -> str:
        """A concrete path, every parameter replaced by ``value``."""
        text = _replace_groups(self.pattern, value)
        text = re.sub(r"<(?:\w+:)?\w+>", value, text)
        return "/" + text.replace("\\.", ".")


def _replace_groups(pattern: str, value: str) -> str:
    """Replace each named regex group, nested parentheses and all."""
    out, index = [], 0
    while (start := pattern.find("(?P<", index)) != -1:
        out.append(pattern[index:start])
        depth, position = 0, start
        while True:
            char = pattern[position]
            if char == "\\":
                position += 2
                continue
            depth += (char == "(") - (char == ")")
            position += 1
            if depth == 0:
                break
        out.append(value)
        index = position
    out.append(pattern[index:])
    return "".join(out)


def _methods(callback: Any) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(sorted(m for m in actions if m not in ("head", "options")))
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return ("get",)
    return tuple(
        m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)
    )


def _walk(patterns: list[Any], prefix: str) -> Iterator[Route]:
    for entry in patterns:
        text = prefix + str(entry.pattern).replace("^", "").replace("$", "")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, text)
        elif isinstance(entry, URLPattern):
            yield Route(
                text, entry.name or "", entry.callback, _methods(entry.callback)
            )


def api_routes() -> list[Route]:
    return [
        r
        for r in _walk(get_resolver().url_patterns, "")
        if r.pattern.startswith("api/v1/")
    ]
