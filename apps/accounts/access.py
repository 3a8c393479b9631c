"""The one place that decides who may see and do what.

REST views, WebSocket consumers, pages and the admin all ask here. The
rules:

- Admins see and do everything.
- Everyone else reaches an environment only through a grant on it
  (``view``, ``operate``: create resources and tag images in it, ``change``:
  manage its shared images and prune, ``delete``).
- Inside a reachable environment a container, volume or network is seen by
  its owner (a user, or every member of the owning team) and by whoever
  holds a grant on it. Resources the portal did not create have no owner, so
  only admins see them until an admin assigns or grants them.
- A Compose project is seen by its owner and whoever holds a grant on it.
  The containers it started (its name and directory in their Compose
  labels) belong to it: the verbs held on the project hold on them too.
- The role caps what a grant gives: a viewer only ever reads.
- An object the user cannot see is "not found", exactly as if it did not
  exist; "forbidden" is only for objects they can see.

Grants are django-guardian object permissions named ``<verb>_<model>``,
given to users or to teams (Django groups).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from apps.compose.models import ComposeProject
from apps.containers.engine import engine_for, filters_param
from apps.containers.environments import environment_missing, resolve_environment
from apps.containers.models import Environment, ResourceKind, ResourceOwnership
from apps.jobs.models import Job
from apps.tunnels.models import TunnelConfig
from dockpilot.errors import NotFound, PortalError

from .models import Role, Team, User

logger = logging.getLogger("dockpilot.accounts.access")

Verb = Literal["view", "change", "delete", "operate"]
VERBS: tuple[Verb, ...] = ("view", "change", "delete", "operate")
KINDS = tuple(ResourceKind.values)
# Objects the portal keeps with an ``owner``: the owner holds every verb.
OWNED_MODELS = (ComposeProject, TunnelConfig)
OwnedModel = TypeVar("OwnedModel", ComposeProject, TunnelConfig)
# Images belong to the environment: acting on one needs the verb on it.
IMAGE = "image"

_DOING = {
    "view": "see",
    "change": "change",
    "delete": "delete",
    "operate": "operate",
}
_INSPECT = {
    "container": "/containers/{0}/json",
    "network": "/networks/{0}",
    "volume": "/volumes/{0}",
}


class AccessDenied(PortalError):
    """The user sees the object but may not do this to it."""

    status_code = 403
    default_code = "permission_denied"
    default_detail = "You may not do this."


def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_admin(user: Any) -> bool:
    return _active(user) and user.role == Role.ADMIN


def role_allows(user: Any, verb: str) -> bool:
    """Whether the role lets the user use ``verb`` at all, whatever the grants."""
    if not _active(user):
        return False
    if user.role == Role.ADMIN or verb == "view":
        return True
    return bool(user.role == Role.OPERATOR)


def permission_codename(model: type[models.Model], verb: str) -> str:
    return f"{verb}_{model._meta.model_name}"


def team_ids(user: User) -> list[int]:
    return list(Team.objects.filter(user=user).values_list("pk", flat=True))


def owns(user: User, row: ResourceOwnership) -> bool:
    """Whether ``user``, or a team of theirs, owns the resource of ``row``."""
    if row.owner_user_id is not None:
        return bool(row.owner_user_id == user.pk)
    return row.owner_team_id is not None and row.owner_team_id in team_ids(user)


def held(user: Any, obj: models.Model) -> set[str]:
    """The verbs ``user`` holds on ``obj`` from ownership and grants.

    The role does not cap this set (see ``allowed``): a viewer who was
    granted ``operate`` holds it, but cannot use it.
    """
    if not _active(user):
        return set()
    if is_admin(user):
        return set(VERBS)

    verbs: set[str] = set()
    if isinstance(obj, ResourceOwnership) and owns(user, obj):
        verbs.update(VERBS)
    if isinstance(obj, OWNED_MODELS) and obj.owner_id == user.pk:
        verbs.update(VERBS)

    for codename in ObjectPermissionChecker(user).get_perms(obj):
        verb = codename.split("_", 1)[0]
        if verb in VERBS:
            verbs.add(verb)
    return verbs


def allowed(user: Any, obj: models.Model, verb: str) -> bool:
    """Whether ``user`` may ``verb`` ``obj``: held, and within the role."""
    return verb in held(user, obj) and role_allows(user, verb)


def _refusal(user: Any, verb: str, what: str) -> AccessDenied:
    if not role_allows(user, verb):
        return AccessDenied(
            f"Your role ({user.role}) may only read; ask an admin for the "
            "operator role.",
            details={"permission": verb},
        )
    return AccessDenied(
        f"You may not {_DOING[verb]} {what}; ask an admin or its owner for the "
        f"'{verb}' permission on it.",
        details={"permission": verb},
    )


# Environments ---------------------------------------------------------------


def visible_environments(user: Any) -> models.QuerySet[Environment]:
    """The environments ``user`` may see, for lists and pickers."""
    if is_admin(user):
        return Environment.objects.all()
    if not _active(user):
        return Environment.objects.none()
    codenames = [permission_codename(Environment, verb) for verb in VERBS]
    return get_objects_for_user(
        user,
        codenames,
        klass=Environment,
        any_perm=True,
        accept_global_perms=False,
        with_superuser=False,
    )


def environment_for(user: Any, value: str | None) -> Environment:
    """The environment a request names (or the default), if the user sees it."""
    environment = resolve_environment(value)
    if not held(user, environment):
        # Worded as for an environment that does not exist.
        raise environment_missing(value or environment.name)
    return environment


def require_environment(user: Any, environment: Environment, verb: str) -> None:
    """Raise 404 if ``user`` cannot see ``environment``, 403 if not allowed."""
    verbs = held(user, environment)
    if not verbs:
        raise environment_missing(environment.name)
    if verb not in verbs or not role_allows(user, verb):
        raise _refusal(user, verb, f"in environment '{environment.name}'")


# Docker resources -----------------------------------------------------------


def _missing(kind: str, ident: str, environment: Environment) -> NotFound:
    return NotFound(
        f"{kind} '{ident}': no such {kind} in environment '{environment.name}'.",
        code="not_found",
    )


def inspected(environment: Environment, kind: str, ident: str) -> dict[str, Any]:
    """The engine's document of a resource given by name, id or id prefix.

    Raises the same 404 as ``check`` gives for an object the user cannot
    see, so the two cannot be told apart.
    """
    if kind not in _INSPECT:
        raise ValueError(f"unknown resource kind {kind!r}")
    if not ident or ident in (".", "..") or "/" in ident:
        raise _missing(kind, ident, environment)
    try:
        document: dict[str, Any] = engine_for(environment).get_json(
            _INSPECT[kind], ident
        )
    except NotFound as exc:
        raise _missing(kind, ident, environment) from exc
    return document


def _identity(kind: str, document: dict[str, Any]) -> tuple[str, str]:
    if kind == "volume":
        return document["Name"], document["Name"]
    return document["Id"], str(document.get("Name", "")).lstrip("/")


def engine_id_of(kind: str, document: dict[str, Any]) -> str:
    """The engine id of a resource from its document (the name for volumes)."""
    return _identity(kind, document)[0]


def resolve(environment: Environment, kind: str, ident: str) -> tuple[str, str]:
    """The engine id and name of a resource given by name, id or id prefix."""
    return _identity(kind, inspected(environment, kind, ident))


def _granted_rows(
    user: User, environment: Environment, kind: str
) -> models.QuerySet[ResourceOwnership]:
    rows = ResourceOwnership.objects.filter(environment=environment, kind=kind)
    codenames = [permission_codename(ResourceOwnership, verb) for verb in VERBS]
    return get_objects_for_user(
        user,
        codenames,
        klass=rows,
        any_perm=True,
        accept_global_perms=False,
        with_superuser=False,
    )


def visible(
    user: Any, environment: Environment, kind: str, ids: Iterable[str]
) -> set[str]:
    """Which of ``ids`` (engine ids; names for volumes) ``user`` may see."""
    wanted = set(ids)
    if is_admin(user):
        return wanted
    if kind == IMAGE:
        return wanted if held(user, environment) else set()
    if not _active(user) or not held(user, environment):
        return set()

    # The user's own rows are few; fetching them all avoids an IN clause
    # as long as the engine's list.
    rows = ResourceOwnership.objects.filter(environment=environment, kind=kind)
    owned = rows.filter(
        models.Q(owner_user=user) | models.Q(owner_team__in=team_ids(user))
    ).values_list("engine_id", flat=True)
    granted = _granted_rows(user, environment, kind).values_list("engine_id", flat=True)
    seen = {*owned} | {*granted}
    if kind == ResourceKind.CONTAINER:
        seen |= _project_containers(user, environment)
    return wanted & seen


def filter_visible(
    user: Any,
    environment: Environment,
    kind: str,
    items: list[dict[str, Any]],
    key: str = "id",
) -> list[dict[str, Any]]:
    """The entries of an engine list that ``user`` may see, in their order."""
    if is_admin(user):
        return items
    seen = visible(user, environment, kind, (item[key] for item in items))
    return [item for item in items if item[key] in seen]


def ownership(
    environment: Environment, kind: str, engine_id: str
) -> ResourceOwnership | None:
    return ResourceOwnership.objects.filter(
        environment=environment, kind=kind, engine_id=engine_id
    ).first()


def check(user: Any, environment: Environment, kind: str, ident: str, verb: str) -> str:
    """Decide one action on one resource; return its engine id.

    ``ident`` may be a name, an id or an id prefix: it is resolved through
    the engine first, so a name cannot reach what its id could not. Raises
    404 when the user cannot see the resource (or it does not exist), 403
    when they see it but may not ``verb`` it. For images the decision is the
    environment's and ``ident`` comes back unchanged.
    """
    if kind == IMAGE:
        require_environment(user, environment, verb)
        return ident
    return _identity(kind, check_inspected(user, environment, kind, ident, verb))[0]


def check_inspected(
    user: Any, environment: Environment, kind: str, ident: str, verb: str
) -> dict[str, Any]:
    """``check`` for a container, volume or network; return its engine document.

    The document is the one the decision was made on: a caller that shows
    it (inspect) needs no second engine call.
    """
    if is_admin(user):
        return inspected(environment, kind, ident)
    if not held(user, environment):
        raise environment_missing(environment.name)

    document = inspected(environment, kind, ident)
    verbs = _verbs_on(user, environment, kind, document)
    if not verbs:
        raise _missing(kind, ident, environment)
    if verb not in verbs or not role_allows(user, verb):
        name = _identity(kind, document)[1]
        raise _refusal(user, verb, f"{kind} '{name or ident}'")
    return document


def _verbs_on(
    user: Any, environment: Environment, kind: str, document: dict[str, Any]
) -> set[str]:
    # What the user holds on one resource: through its ownership row, and
    # for a container also through the Compose project that started it.
    row = ownership(environment, kind, _identity(kind, document)[0])
    verbs = held(user, row) if row is not None else set()
    if kind == ResourceKind.CONTAINER:
        labels = (document.get("Config") or {}).get("Labels") or {}
        verbs |= _project_verbs(user, environment, labels)
    return verbs


def may(
    user: Any,
    environment: Environment,
    kind: str,
    document: dict[str, Any],
    verb: str,
) -> bool:
    """Whether ``user`` may ``verb`` a resource ``check_inspected`` returned.

    The same decision as ``can``, made on the document the request already
    holds instead of asking the engine again.
    """
    if is_admin(user):
        return True
    if not held(user, environment):
        return False
    verbs = _verbs_on(user, environment, kind, document)
    return verb in verbs and role_allows(user, verb)


def can(user: Any, environment: Environment, kind: str, ident: str, verb: str) -> bool:
    """``check`` as a yes or no, for callers that only filter (events, pages)."""
    try:
        check(user, environment, kind, ident, verb)
    except (NotFound, AccessDenied):
        return False
    return True


# Compose projects and the containers they started ---------------------------

PROJECT_LABEL = "com.docker.compose.project"
DIRECTORY_LABEL = "com.docker.compose.project.working_dir"


def visible_projects(user: Any) -> models.QuerySet[ComposeProject]:
    """The Compose projects ``user`` may see: owned or granted, in a seen place."""
    return _visible_owned(user, ComposeProject)


def _visible_owned(user: Any, model: type[OwnedModel]) -> models.QuerySet[OwnedModel]:
    # Objects with an owner: admins see all, others what they own or were
    # granted, and only in environments they reach.
    rows = model.objects.select_related("environment", "owner")
    if is_admin(user):
        return rows.all()
    if not _active(user):
        return rows.none()
    codenames = [permission_codename(model, verb) for verb in VERBS]
    granted = get_objects_for_user(
        user,
        codenames,
        klass=model,
        any_perm=True,
        accept_global_perms=False,
        with_superuser=False,
    ).values_list("pk", flat=True)
    return rows.filter(
        models.Q(owner=user) | models.Q(pk__in=list(granted)),
        environment__in=visible_environments(user),
    )


def require_project(user: Any, project: ComposeProject, verb: str) -> None:
    """Raise 404 if ``user`` cannot see the project, 403 if not allowed ``verb``."""
    verbs = held(user, project) if held(user, project.environment) else set()
    if not verbs:
        raise NotFound(
            f"compose project '{project.name}' does not exist.", code="not_found"
        )
    if verb not in verbs or not role_allows(user, verb):
        raise _refusal(user, verb, f"compose project '{project.name}'")


def belongs_to(project: ComposeProject, labels: dict[str, str]) -> bool:
    """Whether a container with ``labels`` was started by ``project``."""
    return bool(
        labels.get(PROJECT_LABEL) == project.name
        and labels.get(DIRECTORY_LABEL) == project.project_directory
    )


def _held_projects(user: Any, environment: Environment) -> list[ComposeProject]:
    return list(visible_projects(user).filter(environment=environment))


def _project_verbs(
    user: Any, environment: Environment, labels: dict[str, str]
) -> set[str]:
    if PROJECT_LABEL not in labels:
        return set()
    for project in _held_projects(user, environment):
        if belongs_to(project, labels):
            return held(user, project)
    return set()


def _project_containers(user: Any, environment: Environment) -> set[str]:
    projects = _held_projects(user, environment)
    if not projects:
        return set()
    engine = engine_for(environment)
    found: set[str] = set()
    # One engine call per project the user holds here (a few at most).
    for project in projects:
        label = f"{PROJECT_LABEL}={project.name}"
        items = engine.get_json(
            "/containers/json", params={"all": "1", **filters_param(label=[label])}
        )
        found.update(
            item["Id"]
            for item in items
            if belongs_to(project, item.get("Labels") or {})
        )
    return found


# Tunnels --------------------------------------------------------------------


def visible_tunnels(user: Any) -> models.QuerySet[TunnelConfig]:
    """Tunnels ``user`` may see: their own and granted ones, in environments
    they reach; admins see every one."""
    return _visible_owned(user, TunnelConfig)


def tunnel_verbs(user: Any, tunnel: TunnelConfig) -> set[str]:
    """The verbs ``user`` may use on ``tunnel`` now (for a page's buttons)."""
    verbs = held(user, tunnel) if held(user, tunnel.environment) else set()
    return {verb for verb in verbs if role_allows(user, verb)}


def check_tunnel(user: Any, tunnel: TunnelConfig, verb: str) -> None:
    """Raise 404 if ``user`` cannot see ``tunnel``, 403 if not allowed ``verb``."""
    verbs = held(user, tunnel) if held(user, tunnel.environment) else set()
    if not verbs:
        raise NotFound(f"tunnel '{tunnel.pk}' does not exist.", code="not_found")
    if verb not in verbs or not role_allows(user, verb):
        raise _refusal(user, verb, f"tunnel '{tunnel.name}'")


def may_redirect_tunnel_secret(user: Any, tunnel: TunnelConfig) -> bool:
    """Whether ``user`` may send the tunnel's stored key or token to another
    server without giving it again: its owner and admins only; a grantee of
    ``change`` must give the secret anew."""
    return is_admin(user) or bool(_active(user) and tunnel.owner_id == user.pk)


def may_create_tunnel(
    user: Any, environment: Environment, container: str
) -> tuple[str, str]:
    """A tunnel exposes a container: its creator must operate that container.

    Returns the container's engine id and name; raises as ``check`` does.
    """
    engine_id = check(user, environment, "container", container, "operate")
    return engine_id, resolve(environment, "container", engine_id)[1]


# Jobs -----------------------------------------------------------------------

COMPOSE_JOB_PREFIX = "compose_"


def visible_jobs(user: Any) -> models.QuerySet[Job]:
    """The jobs ``user`` may see: their own, and those of the projects they see.

    A Compose job belongs to its project as much as to whoever started it:
    everyone who may look at the project may follow its deploys. Admins see
    every job; an anonymous or inactive user none.
    """
    jobs = Job.objects.select_related("user", "environment")
    if is_admin(user):
        return jobs.all()
    if not _active(user):
        return jobs.none()
    mine = models.Q(user=user)
    projects = list(visible_projects(user).values_list("pk", flat=True))
    if projects:
        mine |= models.Q(
            kind__startswith=COMPOSE_JOB_PREFIX, params__project__in=projects
        )
    return jobs.filter(mine)


# Keeping ownership in step with the engine ----------------------------------


def record_owner(
    user: Any, environment: Environment, kind: str, engine_id: str, name: str = ""
) -> ResourceOwnership:
    """Make a resource just created through the portal its creator's."""
    row, created = ResourceOwnership.objects.get_or_create(
        environment=environment,
        kind=kind,
        engine_id=engine_id,
        defaults={"name": name, "owner_user": user if _active(user) else None},
    )
    if not created:
        # A row left behind by a resource removed outside the portal: its
        # old grants must not carry over to the new resource.
        _drop_grants([row.pk])
        row.name, row.owner_user, row.owner_team = name, user, None
        row.save(update_fields=["name", "owner_user", "owner_team"])
    logger.info("%s %s on %s is owned by %s", kind, engine_id[:12], environment, user)
    return row


def renamed(environment: Environment, kind: str, engine_id: str, name: str) -> None:
    ResourceOwnership.objects.filter(
        environment=environment, kind=kind, engine_id=engine_id
    ).update(name=name)


def _drop_grants(pks: list[int]) -> None:
    content_type = ContentType.objects.get_for_model(ResourceOwnership)
    object_pks = [str(pk) for pk in pks]
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(
            content_type=content_type, object_pk__in=object_pks
        ).delete()


def forget(environment: Environment, kind: str, engine_ids: Iterable[str]) -> int:
    """Drop the ownership rows and grants of resources that were removed."""
    rows = ResourceOwnership.objects.filter(
        environment=environment, kind=kind, engine_id__in=list(engine_ids)
    )
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    _drop_grants(pks)
    ResourceOwnership.objects.filter(pk__in=pks).delete()
    return len(pks)


def forget_named(environment: Environment, kind: str, names: Iterable[str]) -> int:
    """``forget`` for engine reports that name what they removed (prunes)."""
    engine_ids = ResourceOwnership.objects.filter(
        environment=environment, kind=kind, name__in=list(names)
    ).values_list("engine_id", flat=True)
    return forget(environment, kind, list(engine_ids))


def drop_project_grants(project: ComposeProject) -> None:
    """Remove the grants on a project being deleted (its id may be reused)."""
    drop_object_grants(project)


def drop_tunnel_grants(tunnel: TunnelConfig) -> None:
    """Remove the grants on a tunnel that is being deleted."""
    drop_object_grants(tunnel)


def drop_object_grants(obj: models.Model) -> None:
    """Remove every user's and team's grant on ``obj``."""
    content_type = ContentType.objects.get_for_model(type(obj))
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=content_type, object_pk=str(obj.pk)).delete()


def drop_environment_grants(environment: Environment) -> None:
    """Remove the grants on an environment that is being deleted."""
    drop_object_grants(environment)
    _drop_grants(list(environment.ownerships.values_list("pk", flat=True)))
