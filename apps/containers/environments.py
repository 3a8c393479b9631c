"""Choosing the environment a request acts on."""

from __future__ import annotations

from django.db import IntegrityError

from dockpilot.errors import NotFound

from .models import Environment

DEFAULT_NAME = "local"


def default_environment() -> Environment:
    """The default environment, created on first use as this machine's engine."""
    environment = Environment.objects.filter(is_default=True).first()
    if environment is not None:
        return environment
    try:
        environment, _ = Environment.objects.get_or_create(
            name=DEFAULT_NAME, defaults={"is_default": True}
        )
    except IntegrityError:
        environment = Environment.objects.get(is_default=True)
    return environment


def resolve_environment(value: str | None) -> Environment:
    """Find an environment by name or id; none given means the default one."""
    if not value:
        return default_environment()
    lookup = {"pk": int(value)} if value.isdigit() else {"name": value}
    environment = Environment.objects.filter(**lookup).first()
    if environment is None:
        raise NotFound(
            f"environment: no environment '{value}'; list them at "
            "/api/v1/environments/ or leave the parameter out for the default.",
            code="environment_not_found",
        )
    return environment
