"""First-run set-up: how the first admin comes to exist.

Two ways, neither open to whoever reaches the port first: the operator sets
DOCKPILOT_ADMIN_PASSWORD, or the server writes a one-time setup token to its
own log, and ``POST /api/v1/auth/setup`` must present it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from .models import Role, User

logger = logging.getLogger("dockpilot.accounts.setup")


def _token_path() -> Path:
    return Path(settings.DATA_DIR) / "setup_token"


def setup_needed() -> bool:
    return not User.objects.exists()


def read_setup_token() -> str | None:
    try:
        return _token_path().read_text().strip() or None
    except FileNotFoundError:
        return None


def ensure_setup_token() -> str:
    """Return the pending setup token, creating it (mode 0600) if there is none.

    The token is kept in the data directory so that every web process and a
    restart print the same one until it is used.
    """
    token = read_setup_token()
    if token:
        return token
    token = secrets.token_urlsafe(24)
    path = _token_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return token


def token_matches(given: str) -> bool:
    expected = read_setup_token()
    if not expected:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


def discard_setup_token() -> None:
    _token_path().unlink(missing_ok=True)


def create_admin(username: str, password: str, email: str = "") -> User:
    user = User.objects.create_superuser(
        username=username, email=email, password=password
    )
    user.role = Role.ADMIN
    user.save(update_fields=["role"])
    return user


def prepare_first_run() -> None:
    """Called when the server starts: make the first admin possible."""
    try:
        if not setup_needed():
            discard_setup_token()
            return
    except DatabaseError:
        logger.warning("database not ready (run migrations); first-run set-up skipped")
        return

    if settings.ADMIN_PASSWORD:
        try:
            with transaction.atomic():
                create_admin(settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD)
        except IntegrityError:
            # Another process (a second web replica started at the same
            # moment) created it first: the same admin, from the same setting.
            logger.info(
                "admin %r was created by another process", settings.ADMIN_USERNAME
            )
            return
        logger.info(
            "created admin %r from DOCKPILOT_ADMIN_PASSWORD", settings.ADMIN_USERNAME
        )
        return

    token = ensure_setup_token()
    logger.warning(
        "No user exists yet. Create the first admin with: POST /api/v1/auth/setup "
        '{"token": "%s", "username": "...", "password": "..."} '
        "or run: manage.py createsuperuser",
        token,
    )
