"""Stacks started outside the portal: listed read-only, adopted by an admin."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.http import HttpRequest

from apps.accounts import access
from apps.accounts.models import User
from apps.audit.models import Action
from apps.containers.engine import engine_for, filters_param
from apps.containers.models import Environment
from apps.containers.services.containers import shape_summary
from dockpilot.errors import BadRequest, Conflict, NotFound

from .. import files
from ..models import ComposeProject
from ..names import check_project_name
from .projects import audit_project, store_new_project
from .status import SERVICE_LABEL, refresh_status

logger = logging.getLogger("dockpilot.compose.services.outside")

CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
MAX_FILE_BYTES = 512 * 1024


def _stacks(user: Any, environment: Environment) -> dict[str, dict[str, Any]]:
    items = engine_for(environment).get_json(
        "/containers/json",
        params={"all": "1", **filters_param(label=[access.PROJECT_LABEL])},
    )
    shaped = access.filter_visible(
        user, environment, "container", [shape_summary(item) for item in items]
    )
    ours = set(
        ComposeProject.objects.filter(environment=environment).values_list(
            "name", flat=True
        )
    )
    stacks: dict[str, dict[str, Any]] = {}
    for container in shaped:
        labels = container["labels"]
        name = labels[access.PROJECT_LABEL]
        if name in ours:
            continue
        stack = stacks.setdefault(
            name,
            {
                "name": name,
                "working_dir": labels.get(access.DIRECTORY_LABEL, ""),
                "config_files": labels.get(CONFIG_FILES_LABEL, ""),
                "services": set(),
                "containers": [],
            },
        )
        stack["services"].add(labels.get(SERVICE_LABEL, ""))
        stack["containers"].append(
            {
                "id": container["id"],
                "name": container["name"],
                "state": container["state"],
            }
        )
    return stacks


def outside_stacks(user: Any, environment: Environment) -> list[dict[str, Any]]:
    """Compose stacks on the engine that no project here manages, read-only."""
    stacks = _stacks(user, environment).values()
    return [
        {**stack, "services": sorted(stack["services"])}
        for stack in sorted(stacks, key=lambda stack: stack["name"])
    ]


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _recorded_files(stack: dict[str, Any]) -> tuple[str | None, str]:
    """The compose file and .env from the stack's working directory, if readable.

    Only one compose file inside the working directory is taken: a stack
    made of several files is adopted from the YAML the admin supplies.
    """
    directory = Path(stack["working_dir"] or "/nonexistent")
    config_files = [part for part in stack["config_files"].split(",") if part]
    if len(config_files) != 1:
        return None, ""
    compose = Path(config_files[0])
    if not compose.is_absolute():
        compose = directory / compose
    if directory.resolve() not in compose.resolve().parents:
        return None, ""
    return _read(compose), _read(directory / ".env") or ""


def adopt_stack(
    admin: User,
    environment: Environment,
    name: str,
    *,
    compose_yaml: str | None,
    env_text: str | None,
    owner: User | None,
    request: HttpRequest,
) -> ComposeProject:
    """Make an outside stack a project; its containers then belong to it.

    The project keeps the stack's working directory as its project
    directory, so that relative paths in the file and the containers'
    labels stay as they were. Known shortcoming: when that folder is gone,
    relative paths in the file point at nothing until the file is edited.
    """
    with audit_project(Action.COMPOSE_ADOPT, name, environment, request) as audit:
        stack = _stacks(admin, environment).get(name)
        if stack is None:
            raise NotFound(
                f"no Compose stack '{name}' started outside the portal in "
                f"environment '{environment.name}'.",
            )
        check_project_name(name)
        if ComposeProject.objects.filter(name=name).exists():
            raise Conflict(
                f"a compose project '{name}' exists in another environment; "
                "project names are unique across the portal.",
                code="name_taken",
            )
        recorded, recorded_env = _recorded_files(stack)
        text = compose_yaml or recorded
        if not text:
            raise BadRequest(
                f"compose: the files of '{name}' cannot be read from "
                f"{stack['working_dir'] or 'its working directory'}; give the "
                "compose file's YAML in 'compose'.",
                details={"field": "compose"},
            )
        env = env_text if env_text is not None else recorded_env
        audit.details["source"] = "supplied" if compose_yaml else "working_dir"
        directory = stack["working_dir"] or str(files.folder_of(name))
        project = store_new_project(
            admin,
            environment,
            name=name,
            directory=directory,
            compose_yaml=text,
            env_text=env,
            owner=owner or admin,
            adopted=True,
        )
    refresh_status(project)
    logger.info("adopted compose stack %s on %s", name, environment.name)
    return project
