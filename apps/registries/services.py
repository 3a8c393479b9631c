"""Storing registry credentials, and handing one to a pull or build."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import User
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.encryption import seal, unseal
from dockpilot.errors import BadRequest, Conflict, NotFound

from .models import RegistryCredential

logger = logging.getLogger("dockpilot.registries.services")

# Docker Hub answers under several names; the engine calls it docker.io.
_HUB_NAMES = {"", "docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class Login:
    """What the engine needs to log in to a registry for one request."""

    registry: str
    username: str
    password: str

    def auth_config(self) -> dict[str, str]:
        return {
            "username": self.username,
            "password": self.password,
            "serveraddress": self.registry,
        }


def normalize_registry(host: str) -> str:
    host = host.strip().lower().removeprefix("https://").removeprefix("http://")
    host = host.rstrip("/")
    return "docker.io" if host in _HUB_NAMES else host


def visible_credentials(user: User) -> QuerySet[RegistryCredential]:
    """Credentials a user may list: their own; admins see every one."""
    queryset = RegistryCredential.objects.select_related("owner")
    return queryset if user.is_admin else queryset.filter(owner=user)


def _details(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "secret"}


def _save(credential: RegistryCredential) -> None:
    try:
        with transaction.atomic():
            credential.save()
    except IntegrityError as exc:
        raise Conflict(
            f"name: you already have a registry credential named "
            f"'{credential.name}'; choose another name or change that one.",
            code="credential_exists",
        ) from exc


def create_credential(
    user: User, data: dict[str, Any], *, request: HttpRequest
) -> RegistryCredential:
    """Store a new credential owned by ``user``; the secret is sealed first."""
    with audited(
        Action.REGISTRY_CREATE,
        request=request,
        resource_type="registry",
        resource_name=data["name"],
        details=_details(data),
    ) as target:
        credential = RegistryCredential(
            owner=user,
            name=data["name"],
            registry=normalize_registry(data["registry"]),
            username=data["username"],
            secret_sealed=seal(data["secret"]),
        )
        _save(credential)
        target.resource_id = str(credential.pk)
    logger.info("registry credential %s stored for %s", credential.pk, user.username)
    return credential


def update_credential(
    credential: RegistryCredential, data: dict[str, Any], *, request: HttpRequest
) -> RegistryCredential:
    with audited(
        Action.REGISTRY_UPDATE,
        request=request,
        resource_type="registry",
        resource_id=str(credential.pk),
        resource_name=credential.name,
        details={**_details(data), "secret_changed": "secret" in data},
    ):
        for field in ("name", "username"):
            if field in data:
                setattr(credential, field, data[field])
        if "registry" in data:
            credential.registry = normalize_registry(data["registry"])
        if "secret" in data:
            credential.secret_sealed = seal(data["secret"])
        _save(credential)
    return credential


def delete_credential(credential: RegistryCredential, *, request: HttpRequest) -> None:
    with audited(
        Action.REGISTRY_DELETE,
        request=request,
        resource_type="registry",
        resource_id=str(credential.pk),
        resource_name=credential.name,
    ):
        credential.delete()


def login_for(user: User, credential_id: int, registry: str) -> Login:
    """The login a job of ``user`` may use for ``registry``.

    Only the owner may use a credential, and only for its own registry: the
    engine sends the login to whichever registry the image names, so a
    mismatch would hand the secret to another host.
    """
    credential = RegistryCredential.objects.filter(pk=credential_id, owner=user).first()
    if credential is None:
        raise NotFound(
            f"credential: you have no registry credential {credential_id}; list "
            "yours at /api/v1/registries/.",
            code="credential_not_found",
        )
    wanted = normalize_registry(registry)
    if credential.registry != wanted:
        raise BadRequest(
            f"credential: '{credential.name}' is for {credential.registry}, but "
            f"the image is on {wanted}; use a credential for that registry.",
            code="credential_mismatch",
        )
    password = unseal(credential.secret_sealed, what="registry secret")
    return Login(credential.registry, credential.username, password)
