"""Admins managing users and teams; every change audited with before and after."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest

from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import BadRequest, Conflict

from ..models import Role, Team, User
from .auth import revoke_all_api_tokens, revoke_all_refresh_tokens

logger = logging.getLogger("dockpilot.accounts.services.users")

USER_FIELDS = ("username", "email", "role", "is_active", "must_change_password")


def user_state(user: User) -> dict[str, Any]:
    return {field: getattr(user, field) for field in USER_FIELDS}


def team_state(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "description": team.description,
        "members": sorted(team.user_set.values_list("username", flat=True)),
    }


def _validated_password(password: str, user: User) -> str:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise BadRequest(
            "password: " + " ".join(exc.messages), details={"field": "password"}
        ) from exc
    return password


def _other_active_admins(user: User) -> bool:
    admins = User.objects.filter(role=Role.ADMIN, is_active=True)
    return admins.exclude(pk=user.pk).exists()


def _keep_an_admin(user: User, role: str, is_active: bool) -> None:
    still_admin = role == Role.ADMIN and is_active
    if user.is_admin and not still_admin and not _other_active_admins(user):
        raise Conflict(
            f"user '{user.username}' is the last active admin: make another "
            "user admin first.",
            code="last_admin",
        )


def create_user(request: HttpRequest, data: dict[str, Any]) -> User:
    """Create a user with a role; the password meets the validators."""
    with audited(
        Action.USER_CREATE,
        request=request,
        resource_type="user",
        resource_name=data["username"],
    ) as target:
        if User.objects.filter(username=data["username"]).exists():
            raise Conflict(
                f"username: '{data['username']}' is taken; pick another.",
                code="username_taken",
                details={"field": "username"},
            )
        user = User(
            username=data["username"],
            email=data.get("email", ""),
            role=data.get("role", Role.VIEWER),
        )
        user.set_password(_validated_password(data["password"], user))
        user.save()
        target.resource_id = str(user.pk)
        target.details["after"] = user_state(user)
    logger.info("user %s created with role %s", user.username, user.role)
    return user


def update_user(request: HttpRequest, user: User, data: dict[str, Any]) -> User:
    """Change role, activity or e-mail; effective on the user's next request."""
    before = user_state(user)
    with (
        audited(
            Action.USER_UPDATE,
            request=request,
            resource_type="user",
            resource_id=str(user.pk),
            resource_name=user.username,
            details={"before": before},
        ) as target,
        transaction.atomic(),
    ):
        _keep_an_admin(
            user, data.get("role", user.role), data.get("is_active", user.is_active)
        )
        for field, value in data.items():
            setattr(user, field, value)
        user.save()
        if not user.is_active:
            revoke_all_refresh_tokens(user)
        target.details["after"] = user_state(user)
    logger.info("user %s changed: %s", user.username, sorted(data))
    return user


def reset_password(request: HttpRequest, user: User, password: str) -> None:
    """Set a password the user must change at next login; end their sessions."""
    with (
        audited(
            Action.USER_PASSWORD_RESET,
            request=request,
            resource_type="user",
            resource_id=str(user.pk),
            resource_name=user.username,
        ) as target,
        transaction.atomic(),
    ):
        user.set_password(_validated_password(password, user))
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        target.details["sessions_ended"] = revoke_all_refresh_tokens(user)
        target.details["personal_access_revoked"] = revoke_all_api_tokens(user)


def delete_user(request: HttpRequest, actor: User, user: User) -> None:
    """Delete a user; never yourself, never the last admin."""
    with audited(
        Action.USER_DELETE,
        request=request,
        resource_type="user",
        resource_id=str(user.pk),
        resource_name=user.username,
        details={"before": user_state(user)},
    ):
        if user.pk == actor.pk:
            raise Conflict(
                "You cannot delete your own account; ask another admin.",
                code="delete_self",
            )
        _keep_an_admin(user, Role.VIEWER, False)
        user.delete()
    logger.info("user %s deleted", user.username)


def _set_members(team: Team, members: list[User] | None) -> None:
    if members is not None:
        team.user_set.set(members)


def create_team(request: HttpRequest, data: dict[str, Any]) -> Team:
    """Create a team, optionally with its members."""
    with audited(
        Action.TEAM_CREATE,
        request=request,
        resource_type="team",
        resource_name=data["name"],
    ) as target:
        if Team.objects.filter(name=data["name"]).exists():
            raise Conflict(
                f"name: a team named '{data['name']}' exists; pick another name.",
                code="team_exists",
                details={"field": "name"},
            )
        team = Team.objects.create(
            name=data["name"], description=data.get("description", "")
        )
        _set_members(team, data.get("members"))
        target.resource_id = str(team.pk)
        target.details["after"] = team_state(team)
    return team


def update_team(request: HttpRequest, team: Team, data: dict[str, Any]) -> Team:
    """Rename, describe or set the members of a team (the whole list)."""
    with audited(
        Action.TEAM_UPDATE,
        request=request,
        resource_type="team",
        resource_id=str(team.pk),
        resource_name=team.name,
        details={"before": team_state(team)},
    ) as target:
        for field in ("name", "description"):
            if field in data:
                setattr(team, field, data[field])
        team.save()
        _set_members(team, data.get("members"))
        target.details["after"] = team_state(team)
    return team


def delete_team(request: HttpRequest, team: Team) -> None:
    """Delete a team: its grants go with it; what it owned is admins' only."""
    with audited(
        Action.TEAM_DELETE,
        request=request,
        resource_type="team",
        resource_id=str(team.pk),
        resource_name=team.name,
        details={"before": team_state(team)},
    ):
        team.delete()
