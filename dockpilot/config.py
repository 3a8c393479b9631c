"""Typed readers for DOCKPILOT_* environment variables.

Every setting can also be given as ``NAME_FILE``: the path of a file whose
content is the value. That keeps secrets out of process listings and lets
container orchestrators mount them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "DOCKPILOT_"


def env_str(name: str, default: str = "") -> str:
    """Return ``DOCKPILOT_<name>``, or the content of ``DOCKPILOT_<name>_FILE``."""
    key = PREFIX + name
    file_path = os.environ.get(key + "_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{key}_FILE: cannot read {file_path}: {exc}"
            ) from exc
    return os.environ.get(key, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{PREFIX}{name} must be a whole number, not {raw!r}"
        ) from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def persistent_secret_key(data_dir: Path) -> str:
    """Read the secret key from the data directory, creating it on first run.

    The key never lives in the repository; an operator may still pass one
    with DOCKPILOT_SECRET_KEY (or _FILE) to share it between replicas.
    """
    given = env_str("SECRET_KEY")
    if given:
        return given
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must end up with the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
