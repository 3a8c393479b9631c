"""Coarse role checks for the API: viewers read, operators and admins change."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import User


def acting_user(request: Request) -> User:
    """The authenticated portal user of a request that passed its permissions."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


class RolePermission(BasePermission):
    """Default permission: any active user reads, operators and admins write.

    The role is read from the database on every request (the user row is
    loaded per request), so a role change applies at once.
    """

    message = "Your role may only read; ask an admin for the operator role."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(user.can_change)


class AdminOnly(BasePermission):
    message = "Only admins may use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)
