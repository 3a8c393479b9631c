"""Reading a project's ``.env`` as Compose does, to hide its values.

Compose's ``.env`` syntax: ``KEY=VALUE`` (or ``KEY: VALUE``), an optional
``export`` before the key, ``#`` comments. A value in single or double
quotes may span lines, up to its closing quote; an unquoted value ends at
the end of its line, or at `` #`` (an inline comment). Masking follows that
syntax, so no line of a quoted multi-line value is shown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

logger = logging.getLogger("dockpilot.compose.envfile")

MASK = "***"
# A value shorter than this is not searched for in job output: masking
# every "80" or "yes" there would make the output unreadable.
MIN_HIDDEN_LENGTH = 4
_KEY = re.compile(
    r"(?P<key>[ \t]*(?:export[ \t]+)?[^\s=:#][^\s=:]*)[ \t]*(?P<sep>[=:])[ \t]*"
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True)
class Entry:
    """One variable of a ``.env``: how its key was typed and its value."""

    key: str
    separator: str
    value: str


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The value inside quotes opening at ``start``, and where it ends."""
    chars, index = [], start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"' and index + 1 < len(text):
            following = text[index + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        if char == quote:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    # Unterminated: Compose refuses the file; everything after is the value.
    return "".join(chars), len(text)


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end == -1 else end + 1


def _parse(text: str) -> Iterator[tuple[int, int, Entry | None]]:
    """(start, end, entry) of each line or multi-line entry; None if no variable."""
    index = 0
    while index < len(text):
        end = _line_end(text, index)
        found = _KEY.match(text, index, end)
        if found is None or text[index:end].lstrip().startswith("#"):
            yield index, end, None
            index = end
            continue
        start = found.end()
        if start < len(text) and text[start] in "'\"":
            value, closed = _quoted(text, start, text[start])
            end = _line_end(text, closed) if closed < len(text) else len(text)
        else:
            value = re.split(r"[ \t]#", text[start:end].rstrip("\r\n"), maxsplit=1)[0]
            value = value.strip()
        yield index, end, Entry(found["key"], found["sep"], value)
        index = end


def masked_env(text: str) -> str:
    """The ``.env`` with every value, quoted multi-line ones whole, as ``***``."""
    parts = []
    for start, end, entry in _parse(text):
        if entry is None:
            parts.append(text[start:end])
        else:
            parts.append(f"{entry.key}{entry.separator}{MASK}\n")
    return "".join(parts)


def hidden_values(text: str) -> list[str]:
    """The values a viewer must not read anywhere, longest first.

    A multi-line value counts whole and line by line: output may show one
    of its lines alone.
    """
    found: set[str] = set()
    for _, _, entry in _parse(text):
        if entry is None:
            continue
        found.add(entry.value)
        found.update(entry.value.splitlines())
    kept = (value.strip() for value in found)
    return sorted(
        {value for value in kept if len(value) >= MIN_HIDDEN_LENGTH},
        key=len,
        reverse=True,
    )


def hide_values(line: str, values: list[str]) -> str:
    """``line`` with each of ``values`` (from hidden_values) replaced by ``***``."""
    for value in values:
        line = line.replace(value, MASK)
    return line
