"""Compose's rules for project, service and profile names.

Compose lowercases a project name and drops every character other than
letters, digits, ``-`` and ``_``; a name it would change is refused here,
with the name Compose would use, so the portal and the CLI never disagree
about which containers belong to a project.
"""

from __future__ import annotations

import re

from dockpilot.errors import BadRequest

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Service and profile names as the Compose schema allows them.
SERVICE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
MAX_LENGTH = 63
# Taken by a route: /api/v1/compose/outside/ lists stacks made elsewhere.
RESERVED = ("outside",)


def normalised(name: str) -> str:
    """The name Compose itself would use for ``name``."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("-_")


def check_project_name(name: str) -> str:
    """``name`` if Compose takes it unchanged, else a 400 that says why."""
    if not name:
        raise _bad("name: give the project a name.")
    if len(name) > MAX_LENGTH:
        raise _bad(f"name: at most {MAX_LENGTH} characters.")
    if name in RESERVED:
        raise _bad(f"name: '{name}' is reserved by the portal; choose another.")
    if PROJECT_NAME.match(name):
        return name
    better = normalised(name)
    hint = f" Compose would call it '{better}': use that." if better else ""
    raise _bad(
        f"name: '{name}' is not a Compose project name: use lowercase letters, "
        f"digits, '-' and '_', starting with a letter or digit.{hint}"
    )


def check_names(field: str, names: list[str]) -> list[str]:
    """Service or profile names given by a user; one starting with '-' is refused."""
    for name in names:
        if not SERVICE_NAME.match(name):
            raise BadRequest(
                f"{field}: '{name}' is not a valid name (letters, digits, '.', "
                "'-' and '_', starting with a letter or digit).",
                details={"field": field},
            )
    return names


def _bad(message: str) -> BadRequest:
    return BadRequest(message, details={"field": "name"})
