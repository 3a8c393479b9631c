"""Settings for the test suite: fast hashing, a data directory of its own."""

import os
import tempfile

# Before base reads it: the suite never touches the developer's ./data.
os.environ.setdefault("DOCKPILOT_DATA_DIR", tempfile.mkdtemp(prefix="dockpilot-test-"))

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A file, not SQLite's in-memory test database: the job tests run a real
# Celery worker in another process, which must see the same tables.
DATABASES["default"].setdefault("TEST", {})  # noqa: F405
DATABASES["default"]["TEST"]["NAME"] = str(DATA_DIR / "test.db")  # noqa: F405
