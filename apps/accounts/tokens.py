"""Personal API tokens: making a secret, finding and checking a presented one.

A token reads ``dpt_<8 hex>_<secret>``. The first part (the prefix) is
stored in clear to find the row and to show the owner which token is
which; the whole token is stored only as a SHA-256 digest. The secret holds
256 random bits, so a plain digest is as strong as a slow password hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from .models import ApiToken

PREFIX = "dpt_"
_SHAPE = re.compile(r"^(dpt_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def generate() -> tuple[str, str]:
    """A new token and its public prefix."""
    prefix = PREFIX + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def looks_like_token(raw: str) -> bool:
    """Whether a bearer credential is meant as a personal token (not a JWT)."""
    return raw.startswith(PREFIX)


def _invalid(message: str) -> AuthenticationFailed:
    return AuthenticationFailed(message, code="invalid_token")


def verify(raw: str) -> ApiToken:
    """The live token that ``raw`` is, with its use recorded; else 401."""
    match = _SHAPE.match(raw)
    token = (
        ApiToken.objects.select_related("owner").filter(prefix=match[1]).first()
        if match
        else None
    )
    if token is None or not hmac.compare_digest(token.secret_hash, digest(raw)):
        raise _invalid("This API token is not valid; check that it was copied whole.")

    now = timezone.now()
    if token.revoked_at is not None:
        raise _invalid(f"API token {token.prefix} was revoked; create a new one.")
    if token.expires_at <= now:
        raise _invalid(
            f"API token {token.prefix} expired on {token.expires_at:%Y-%m-%d}; "
            "create a new one."
        )
    if not token.owner.is_active:
        raise _invalid("The account of this API token is deactivated.")

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    return token
