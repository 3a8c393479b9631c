"""Granting and revoking object permissions; assigning Docker resources.

Objects of grants: environments, the Docker resources of access.KINDS and
Compose projects (named by their name). Admins grant anything. Anyone else
who may change things may pass on a permission they hold themselves on an
object (an owner sharing a container with a colleague), never more: no one
can grant more than they hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from apps.audit.models import Action
from apps.audit.services import audited
from apps.compose.models import ComposeProject
from apps.containers.models import Environment, ResourceOwnership
from apps.tunnels.models import TunnelConfig
from dockpilot.errors import BadRequest, NotFound

from .. import access
from ..models import Team, User

logger = logging.getLogger("dockpilot.accounts.services.grants")

PROJECT = "compose_project"
OBJECT_TYPES = ("environment", PROJECT, *access.KINDS, "tunnel")


@dataclass(frozen=True)
class Target:
    """The object of a grant, as the API names it and as guardian stores it."""

    object_type: str
    environment: Environment
    obj: models.Model

    @property
    def label(self) -> dict[str, Any]:
        if isinstance(self.obj, ResourceOwnership):
            ident, name = self.obj.engine_id, self.obj.name
        elif isinstance(self.obj, ComposeProject):
            ident, name = self.obj.name, self.obj.name
        elif isinstance(self.obj, TunnelConfig):
            ident, name = str(self.obj.pk), self.obj.name
        else:
            ident, name = str(self.obj.pk), str(self.obj)
        return {
            "object_type": self.object_type,
            "environment": self.environment.name,
            "object_id": ident,
            "object_name": name,
        }


def find_target(
    actor: User, object_type: str, environment: str | None, object_id: str
) -> Target:
    """The object a grant names; 404 if the actor cannot see it.

    An admin may name a resource the portal did not create: it gets an
    ownership row without an owner, which the grant then hangs on.
    """
    if object_type == "environment":
        env = access.environment_for(actor, object_id)
        return Target(object_type, env, env)
    if object_type == PROJECT:
        project = access.visible_projects(actor).filter(name=object_id).first()
        if project is None:
            raise NotFound(f"compose project '{object_id}' does not exist.")
        return Target(object_type, project.environment, project)
    if object_type == "tunnel":
        tunnels = access.visible_tunnels(actor)
        tunnel = tunnels.filter(pk=object_id).first() if object_id.isdigit() else None
        if tunnel is None:
            raise NotFound(f"tunnel '{object_id}' does not exist.", code="not_found")
        return Target(object_type, tunnel.environment, tunnel)
    if object_type not in access.KINDS:
        raise BadRequest(
            f"object_type: give one of {', '.join(OBJECT_TYPES)}.",
            details={"field": "object_type"},
        )

    env = access.environment_for(actor, environment)
    engine_id = access.check(actor, env, object_type, object_id, "view")
    name = access.resolve(env, object_type, engine_id)[1]
    row, _ = ResourceOwnership.objects.get_or_create(
        environment=env,
        kind=object_type,
        engine_id=engine_id,
        defaults={"name": name},
    )
    return Target(object_type, env, row)


def _codename(target: Target, verb: str) -> str:
    model = type(target.obj)
    return f"{model._meta.app_label}.{access.permission_codename(model, verb)}"


def _may_pass_on(actor: User, target: Target, verb: str) -> None:
    if access.is_admin(actor):
        return
    if not actor.can_change:
        raise access.AccessDenied(
            f"Your role ({actor.role}) may only read; it cannot grant or revoke."
        )
    if not access.allowed(actor, target.obj, verb):
        raise access.AccessDenied(
            f"You do not hold '{verb}' on this {target.object_type}, so you "
            "cannot grant or revoke it.",
            details={"permission": verb},
        )


def _grantee(user: User | None, team: Team | None) -> dict[str, Any]:
    return {
        "user": user.username if user else None,
        "team": team.name if team else None,
    }


def grant(
    request: HttpRequest,
    actor: User,
    target: Target,
    verb: str,
    *,
    user: User | None = None,
    team: Team | None = None,
) -> dict[str, Any]:
    """Give ``verb`` on the target to one user or one team."""
    details = {**target.label, "permission": verb, **_grantee(user, team)}
    with audited(
        Action.GRANT_CREATE,
        request=request,
        resource_type=target.object_type,
        resource_id=target.label["object_id"],
        resource_name=target.label["object_name"],
        details=details,
    ):
        _may_pass_on(actor, target, verb)
        assign_perm(_codename(target, verb), user or team, target.obj)
    logger.info("granted %s on %s to %s", verb, target.label, _grantee(user, team))
    return details


def _grant_rows(content_types: list[ContentType]) -> list[tuple[str, Any]]:
    users = UserObjectPermission.objects.filter(content_type__in=content_types)
    teams = GroupObjectPermission.objects.filter(content_type__in=content_types)
    return [
        *(("u", row) for row in users.select_related("permission", "user")),
        *(("t", row) for row in teams.select_related("permission", "group")),
    ]


def _target_of(row: Any) -> Target | None:
    obj = row.content_object
    if isinstance(obj, Environment):
        return Target("environment", obj, obj)
    if isinstance(obj, ResourceOwnership):
        return Target(obj.kind, obj.environment, obj)
    if isinstance(obj, ComposeProject):
        return Target(PROJECT, obj.environment, obj)
    if isinstance(obj, TunnelConfig):
        return Target("tunnel", obj.environment, obj)
    return None


def describe(prefix: str, row: Any) -> dict[str, Any] | None:
    target = _target_of(row)
    if target is None:
        return None
    team = Team.objects.filter(pk=row.group_id).first() if prefix == "t" else None
    return {
        "id": f"{prefix}{row.pk}",
        "permission": row.permission.codename.split("_", 1)[0],
        **target.label,
        **_grantee(getattr(row, "user", None) if prefix == "u" else None, team),
    }


def list_grants(actor: User) -> list[dict[str, Any]]:
    """Grants the actor may see: all for admins, else those they could revoke."""
    types = [
        ContentType.objects.get_for_model(model)
        for model in (Environment, ResourceOwnership, ComposeProject, TunnelConfig)
    ]
    listed = []
    for prefix, row in _grant_rows(types):
        entry = describe(prefix, row)
        target = _target_of(row)
        if entry is None or target is None:
            continue
        held_by_actor = prefix == "u" and row.user_id == actor.pk
        if held_by_actor or _manages(actor, target):
            listed.append(entry)
    return listed


def _manages(actor: User, target: Target) -> bool:
    """Whether ``actor`` may see and take back others' grants on ``target``.

    Admins manage every grant; others only grants on a resource they (or a
    team of theirs) own. Holding a permission is not enough: two operators
    sharing an environment could otherwise revoke each other's access.
    """
    if access.is_admin(actor):
        return True
    row = target.obj
    if isinstance(row, access.OWNED_MODELS):
        return bool(row.owner_id == actor.pk)
    return isinstance(row, ResourceOwnership) and access.owns(actor, row)


def _find_grant(grant_id: str) -> tuple[str, Any]:
    pk = int(grant_id[1:]) if grant_id[1:].isdigit() else None
    row: Any = None
    if pk is not None and grant_id[:1] == "u":
        row = UserObjectPermission.objects.filter(pk=pk).first()
    elif pk is not None and grant_id[:1] == "t":
        row = GroupObjectPermission.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(
            f"grant '{grant_id}': no such grant; list them at /api/v1/grants/."
        )
    return grant_id[0], row


def revoke(request: HttpRequest, actor: User, grant_id: str) -> None:
    """Take a grant back; the holder loses it on their next request."""
    with audited(
        Action.GRANT_DELETE,
        request=request,
        resource_type="grant",
        resource_id=grant_id,
    ) as audit:
        prefix, row = _find_grant(grant_id)
        target = _target_of(row)
        entry = describe(prefix, row)
        if target is None or entry is None:
            raise NotFound(f"grant '{grant_id}': no such grant.")
        if not _manages(actor, target):
            raise NotFound(f"grant '{grant_id}': no such grant.")
        audit.details.update(entry)
        _may_pass_on(actor, target, entry["permission"])
        holder = row.user if prefix == "u" else Team.objects.get(pk=row.group_id)
        remove_perm(_codename(target, entry["permission"]), holder, target.obj)
    logger.info("revoked grant %s", grant_id)


def ownership_state(row: ResourceOwnership) -> dict[str, Any]:
    return {
        "owner_user": row.owner_user.username if row.owner_user else None,
        "owner_team": row.owner_team.name if row.owner_team else None,
    }


def assign_owner(
    request: HttpRequest,
    actor: User,
    target: Target,
    *,
    user: User | None = None,
    team: Team | None = None,
) -> ResourceOwnership:
    """Make a user or a team (or, with neither, no one) own a Docker resource."""
    row = target.obj
    assert isinstance(row, ResourceOwnership)  # noqa: S101 - find_target made it
    with audited(
        Action.OWNERSHIP_ASSIGN,
        request=request,
        resource_type=target.object_type,
        resource_id=row.engine_id,
        resource_name=row.name,
        details={**target.label, "before": ownership_state(row)},
    ) as audit:
        row.owner_user, row.owner_team = user, team
        row.save(update_fields=["owner_user", "owner_team"])
        audit.details["after"] = ownership_state(row)
    return row


def release(request: HttpRequest, row: ResourceOwnership) -> None:
    """Forget a resource's owner and grants: it is for admins only again."""
    with audited(
        Action.OWNERSHIP_DELETE,
        request=request,
        resource_type=row.kind,
        resource_id=row.engine_id,
        resource_name=row.name,
        details={"environment": row.environment.name, "before": ownership_state(row)},
    ):
        access.forget(row.environment, row.kind, [row.engine_id])
