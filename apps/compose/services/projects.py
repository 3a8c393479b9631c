"""Creating, changing, validating and removing Compose projects."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from apps.containers.engine import engine_for, filters_param
from apps.containers.models import Environment
from dockpilot.errors import Conflict

from .. import files, policy, validation
from ..models import ComposeProject
from ..names import check_project_name

logger = logging.getLogger("dockpilot.compose.services.projects")

RESOURCE = "compose_project"


def project_containers(project: ComposeProject) -> list[dict[str, Any]]:
    """The engine's list entries of the containers the project started."""
    label = f"{access.PROJECT_LABEL}={project.name}"
    items = engine_for(project.environment).get_json(
        "/containers/json", params={"all": "1", **filters_param(label=[label])}
    )
    return [
        item for item in items if access.belongs_to(project, item.get("Labels") or {})
    ]


def audit_project(
    action: str,
    name: str,
    environment: Environment,
    request: HttpRequest,
    **details: Any,
) -> Any:
    """The audit context of one action on the project called ``name``."""
    return audited(
        action,
        request=request,
        resource_type=RESOURCE,
        resource_id=name,
        resource_name=name,
        details={"environment": environment.name, **details},
    )


def store_new_project(
    user: Any,
    environment: Environment,
    *,
    name: str,
    directory: str,
    compose_yaml: str,
    env_text: str,
    **fields: Any,
) -> ComposeProject:
    """Check the files under ``user``'s policy, then save the row and the files.

    Both commit or neither: a project whose files could not be written is
    not kept.
    """
    checked_model(
        user,
        environment,
        name=name,
        directory=directory,
        compose_yaml=compose_yaml,
        env_text=env_text,
    )
    with transaction.atomic():
        project = ComposeProject.objects.create(
            name=name,
            environment=environment,
            compose_yaml=compose_yaml,
            env_text=env_text,
            project_directory=directory,
            **fields,
        )
        files.write_files(name, compose_yaml, env_text)
    return project


def checked_model(
    user: Any,
    environment: Environment,
    *,
    name: str,
    directory: str,
    compose_yaml: str,
    env_text: str,
) -> dict[str, Any]:
    """Validate the files and apply the policy of ``user``; the normalised model.

    The typed text is checked before the CLI runs, so that a file outside
    the project is refused before Compose reads it.
    """
    parsed = validation.parse(compose_yaml)
    policy.check_text(user, parsed.data, env_text, directory)
    _, model = validation.normalised_config(
        environment, name, directory, compose_yaml, env_text
    )
    policy.check_model(user, environment, model, directory)
    return model


def summary(model: dict[str, Any]) -> dict[str, Any]:
    services = model.get("services") or {}
    profiles = sorted(
        {
            profile
            for service in services.values()
            for profile in service.get("profiles") or []
        }
    )
    return {"valid": True, "services": sorted(services), "profiles": profiles}


def _refuse_outside_stack(environment: Environment, name: str) -> None:
    # Containers already carrying this project name were started elsewhere:
    # a new project of that name would take them over. An admin adopts them.
    label = f"{access.PROJECT_LABEL}={name}"
    items = engine_for(environment).get_json(
        "/containers/json", params={"all": "1", **filters_param(label=[label])}
    )
    if items:
        raise Conflict(
            f"name: containers of a Compose project '{name}' started outside the "
            "portal already run here; choose another name, or ask an admin to "
            "adopt that stack.",
            code="name_taken",
            details={"field": "name"},
        )


def create_project(
    user: Any,
    environment: Environment,
    *,
    name: str,
    compose_yaml: str,
    env_text: str,
    request: HttpRequest,
) -> ComposeProject:
    """Check and save a new project, and write its files."""
    with audit_project(Action.COMPOSE_CREATE, name, environment, request):
        check_project_name(name)
        if ComposeProject.objects.filter(name=name).exists():
            raise Conflict(
                f"name: a compose project '{name}' already exists; choose "
                "another name.",
                code="name_taken",
                details={"field": "name"},
            )
        _refuse_outside_stack(environment, name)
        project = store_new_project(
            user,
            environment,
            name=name,
            directory=str(files.folder_of(name)),
            compose_yaml=compose_yaml,
            env_text=env_text,
            owner=user,
        )
    logger.info("compose project %s created on %s", name, environment.name)
    return project


def update_project(
    user: Any,
    project: ComposeProject,
    *,
    compose_yaml: str | None,
    env_text: str | None,
    request: HttpRequest,
) -> ComposeProject:
    """Replace the compose file and/or .env, after the same checks as a create."""
    changed = [
        field
        for field, value in (("compose", compose_yaml), ("env", env_text))
        if value is not None
    ]
    with audit_project(
        Action.COMPOSE_UPDATE,
        project.name,
        project.environment,
        request,
        changed=changed,
    ):
        new_yaml = project.compose_yaml if compose_yaml is None else compose_yaml
        new_env = project.env_text if env_text is None else env_text
        checked_model(
            user,
            project.environment,
            name=project.name,
            directory=project.project_directory,
            compose_yaml=new_yaml,
            env_text=new_env,
        )
        project.compose_yaml, project.env_text = new_yaml, new_env
        project.save(update_fields=["compose_yaml", "env_text", "updated_at"])
        files.write_files(project.name, new_yaml, new_env)
    return project


def validate_project(
    user: Any,
    project: ComposeProject,
    *,
    compose_yaml: str | None,
    env_text: str | None,
    request: HttpRequest,
) -> dict[str, Any]:
    """Run ``docker compose config`` on the saved files, or on edits not saved yet.

    Needs ``change``: the summary and the errors show values interpolated
    from the saved ``.env``, which only those who may change it may read.
    """
    with audit_project(
        Action.COMPOSE_VALIDATE, project.name, project.environment, request
    ):
        access.require_project(user, project, "change")
        model = checked_model(
            user,
            project.environment,
            name=project.name,
            directory=project.project_directory,
            compose_yaml=project.compose_yaml if compose_yaml is None else compose_yaml,
            env_text=project.env_text if env_text is None else env_text,
        )
    return summary(model)


def delete_project(project: ComposeProject, *, request: HttpRequest) -> None:
    """Forget a project that has no containers left (bring it down first)."""
    with audit_project(
        Action.COMPOSE_DELETE, project.name, project.environment, request
    ):
        running = project_containers(project)
        if running:
            raise Conflict(
                f"compose project '{project.name}' still has {len(running)} "
                "containers: bring it down first (POST .../down/).",
                code="project_not_down",
            )
        if project.last_job is not None and not project.last_job.finished:
            raise Conflict(
                f"compose project '{project.name}' is busy with a job; wait for "
                "it to end.",
                code="project_busy",
            )
        with transaction.atomic():
            access.drop_project_grants(project)
            project.delete()
        files.remove_files(project.name)
    logger.info("compose project %s deleted", project.name)
