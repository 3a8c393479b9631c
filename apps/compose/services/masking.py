"""Hiding a project's ``.env`` values where its containers show them.

Compose interpolates ``.env`` into the containers it makes: a command line
(``--requirepass ${PW}``), a host name, a working directory, labels. Those
who may only look at a project see its ``.env`` as ``***``; they must not
read the same values off its containers either. So wherever a container of
a portal project is shown to someone who may not change it (inspect,
lists), every string has the project's values (of 4 characters or more, as
in job output) replaced by ``***``. Env values are masked whole already.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.accounts import access
from apps.containers.models import Environment
from apps.containers.services.containers import COMPOSE_PROJECT
from dockpilot.errors import NotFound

from .. import envfile
from ..models import ComposeProject

logger = logging.getLogger("dockpilot.compose.services.masking")


def project_values(environment: Environment, labels: dict[str, str]) -> list[str]:
    """The ``.env`` values of the portal project a container belongs to."""
    name = labels.get(COMPOSE_PROJECT)
    if not name:
        return []
    project = ComposeProject.objects.filter(name=name, environment=environment).first()
    if project is None or not access.belongs_to(project, labels):
        return []
    return envfile.hidden_values(project.env_text)


def hide(value: Any, hidden: list[str]) -> Any:
    """``value`` (a document, list or string) with each of ``hidden`` as ``***``."""
    if not hidden:
        return value
    if isinstance(value, str):
        return envfile.hide_values(value, hidden)
    if isinstance(value, dict):
        return {key: hide(item, hidden) for key, item in value.items()}
    if isinstance(value, list):
        return [hide(item, hidden) for item in value]
    return value


def hide_in_document(environment: Environment, document: dict[str, Any]) -> Any:
    """An inspect document with its project's values hidden."""
    labels = (document.get("Config") or {}).get("Labels") or {}
    return hide(document, project_values(environment, labels))


def hide_in_list(
    user: Any, environment: Environment, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """List entries, with the values of projects ``user`` may not change hidden."""
    if access.is_admin(user):
        return items
    values: dict[str, list[str]] = {}
    shown = []
    for item in items:
        labels = item.get("labels") or {}
        name = labels.get(COMPOSE_PROJECT)
        if not name:
            shown.append(item)
            continue
        if name not in values:
            values[name] = _hidden_from(user, environment, labels)
        shown.append(hide(item, values[name]))
    return shown


def _hidden_from(
    user: Any, environment: Environment, labels: dict[str, str]
) -> list[str]:
    hidden = project_values(environment, labels)
    if not hidden:
        return []
    project = ComposeProject.objects.get(name=labels[COMPOSE_PROJECT])
    try:
        access.require_project(user, project, "change")
    except (NotFound, access.AccessDenied):
        return hidden
    return []
