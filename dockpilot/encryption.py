"""Secrets kept at rest (registry passwords, tunnel tokens), sealed with Fernet.

The key is derived from the portal's SECRET_KEY with HKDF, so no second
secret has to be managed; keys in SECRET_KEY_FALLBACKS still open what they
sealed, which lets an operator rotate the secret key without losing them.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from dockpilot.errors import PortalError

_INFO = b"dockpilot secrets at rest v1"


class SecretUnreadable(PortalError):
    status_code = 409
    default_code = "secret_unreadable"


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", []) or []
    return MultiFernet([_fernet(settings.SECRET_KEY), *map(_fernet, fallbacks)])


def seal(plain: str) -> str:
    """Encrypt ``plain`` for storage."""
    return _keys().encrypt(plain.encode()).decode()


def unseal(sealed: str, what: str = "secret") -> str:
    """Decrypt a stored value; a changed secret key gives a 409 that says so."""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            f"The stored {what} cannot be decrypted: the portal's secret key "
            "changed. Enter it again.",
        ) from exc
