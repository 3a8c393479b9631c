"""Hiding a project's ``.env`` values where its containers show them.

Compose interpolates ``.env`` into the containers it makes: a command line
(``--requirepass ${PW}``), a host name, a working directory, labels. Those
who may only look at a project see its ``.env`` as ``***``; they must not
read the same values off its containers either. So wherever a container of
a portal project is shown to someone who may not change it (inspect,
lists), every string has the project's values (of 4 characters or more, as
in job output) replaced by ``***``. Env values are masked whole already.

Known shortcoming: the containers API's ``label`` filter goes to the engine
before anything is hidden, so a viewer can still test a guess
(``label=pw=<guess>``) and learn from whether the container is listed.
"""

from __future__ import annotations

from typing import Any

from apps.accounts import access
from apps.containers.models import Environment
from apps.containers.services.containers import COMPOSE_PROJECT
from dockpilot.errors import NotFound

from .. import envfile
from ..models import ComposeProject


def _project_of(
    environment: Environment, labels: dict[str, str]
) -> ComposeProject | None:
    """The portal project a container with ``labels`` belongs to, if any."""
    name = labels.get(COMPOSE_PROJECT)
    if not name:
        return None
    project = ComposeProject.objects.filter(name=name, environment=environment).first()
    return project if project and access.belongs_to(project, labels) else None


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
    project = _project_of(environment, labels)
    return hide(document, envfile.hidden_values(project.env_text) if project else [])


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
    project = _project_of(environment, labels)
    if project is None:
        return []
    try:
        access.require_project(user, project, "change")
    except (NotFound, access.AccessDenied):
        return envfile.hidden_values(project.env_text)
    return []
