"""Adding, changing and removing the Docker engines the portal manages."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import Conflict

from ..engine import forget_engines
from ..models import Environment

logger = logging.getLogger("dockpilot.containers.services.environments")


def _clear_other_defaults(environment: Environment) -> None:
    if environment.is_default:
        Environment.objects.exclude(pk=environment.pk).filter(is_default=True).update(
            is_default=False
        )


def create_environment(data: dict[str, Any], *, request: HttpRequest) -> Environment:
    """Register an engine; making it the default takes that from the old one."""
    with (
        audited(
            Action.ENVIRONMENT_CREATE,
            request=request,
            resource_type="environment",
            resource_name=data["name"],
            details=data,
        ) as target,
        transaction.atomic(),
    ):
        environment = Environment(**data)
        if environment.is_default:
            Environment.objects.filter(is_default=True).update(is_default=False)
        environment.save()
        target.resource_id = str(environment.pk)
    logger.info(
        "environment %s added (%s)", environment.name, environment.endpoint or "local"
    )
    return environment


def update_environment(
    environment: Environment, data: dict[str, Any], *, request: HttpRequest
) -> Environment:
    with (
        audited(
            Action.ENVIRONMENT_UPDATE,
            request=request,
            resource_type="environment",
            resource_id=str(environment.pk),
            resource_name=environment.name,
            details=data,
        ),
        transaction.atomic(),
    ):
        if environment.is_default and data.get("is_default") is False:
            raise Conflict(
                "is_default: make another environment the default "
                "instead of unsetting it here.",
                code="default_required",
            )
        for field, value in data.items():
            setattr(environment, field, value)
        _clear_other_defaults(environment)
        environment.save()
    # A changed endpoint must not keep using the old cached connection.
    forget_engines()
    return environment


def delete_environment(environment: Environment, *, request: HttpRequest) -> None:
    with audited(
        Action.ENVIRONMENT_DELETE,
        request=request,
        resource_type="environment",
        resource_id=str(environment.pk),
        resource_name=environment.name,
    ):
        if environment.is_default:
            raise Conflict(
                f"environment '{environment.name}' is the default: make another "
                "one the default first.",
                code="default_required",
            )
        projects = list(environment.compose_projects.values_list("name", flat=True))
        if projects:
            raise Conflict(
                f"environment '{environment.name}' still holds compose projects "
                f"({', '.join(projects[:5])}): bring them down and delete them "
                "first.",
                code="environment_in_use",
            )
        access.drop_environment_grants(environment)
        environment.delete()
    forget_engines()
