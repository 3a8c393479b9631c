"""``.dockerignore`` matching, with the Docker CLI's rules.

Patterns are cleaned like paths, ``*`` and ``?`` stay within one path
segment, ``**`` spans any number of them, a pattern that matches a
directory excludes what is inside it, ``!`` re-includes, and the last
pattern that matches a path decides.
"""

from __future__ import annotations

import posixpath
import re

Pattern = tuple[bool, re.Pattern[str]]


def parse(text: str) -> list[Pattern]:
    """The patterns of a .dockerignore file, as (exclude, regex) pairs."""
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        line = line.lstrip("!").strip()
        cleaned = posixpath.normpath(line).lstrip("/")
        if cleaned in ("", "."):
            continue
        patterns.append((exclude, re.compile(_translate(cleaned))))
    return patterns


def _translate(pattern: str) -> str:
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append(
                    "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                )
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return "".join(out)


def _matches(regex: re.Pattern[str], path: str) -> bool:
    parts = path.split("/")
    return any(regex.match("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether ``path`` (relative, '/'-separated) is left out of the context."""
    verdict = False
    for exclude, regex in patterns:
        if _matches(regex, path):
            verdict = exclude
    return verdict
