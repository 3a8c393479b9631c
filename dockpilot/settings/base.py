"""Settings shared by every deployment; read from DOCKPILOT_* variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from dockpilot.config import env_bool, env_int, env_list, env_str, persistent_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
# Owner-only: it holds the database, the secret key and the setup token.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

SECRET_KEY = persistent_secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

BIND_ADDRESS = env_str("BIND", "127.0.0.1")
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "guardian",
    "apps.accounts",
    "apps.audit",
    "apps.containers",
    "apps.registries",
    "apps.jobs",
    "apps.compose",
    "apps.tunnels",
    "apps.portal",
]

# Under Daphne the whole chain runs in the request's thread, in its sync
# form (dockpilot.handler): one crossing to a thread per request.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dockpilot.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the pages: the language cookie (the switcher sets it),
    # else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "dockpilot.urls"
ASGI_APPLICATION = "dockpilot.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> Any:
    url = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'dockpilot.db'}")
    config = dj_database_url.parse(url, conn_max_age=600)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; the init command
        # runs on every new connection, so the mode holds after a restart.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                " PRAGMA busy_timeout=5000;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    # Kept open between requests: Daphne's requests run on pooled threads
    # (dockpilot.handler), each keeping its connection.
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No database row for anonymous visitors: they get no object permissions,
# and an extra user row would make first-run set-up think one exists.
ANONYMOUS_USER_NAME = None

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        )
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Front-end libraries come from npm (package.json, installed by `make run`
# and `make test` into node_modules): only their dist folders are served,
# each under static/vendor/<prefix>/.
FRONTEND_FOLDERS = {
    "htmx.org": "htmx.org/dist",
    "uplot": "uplot/dist",
    "xterm": "@xterm/xterm/lib",
    "xterm/css": "@xterm/xterm/css",
    "xterm-fit": "@xterm/addon-fit/lib",
}
STATICFILES_DIRS = [
    BASE_DIR / "static",
    *(
        (f"vendor/{prefix}", BASE_DIR / "node_modules" / folder)
        for prefix, folder in FRONTEND_FOLDERS.items()
    ),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# With Redis, it is the Celery broker, the channel layer and the cache, so
# several web and worker processes share them. Without it (one machine), a
# broker of plain folders needs no server and the rest stays in memory.
REDIS_URL = env_str("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dockpilot",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "dockpilot"},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dockpilot",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
# kombu's filesystem transport, with messages that appear only when whole
# (apps/jobs/broker.py says why); Redis needs no such help.
CELERY_BROKER_TRANSPORT = None if REDIS_URL else "apps.jobs.broker:Transport"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {}
    if REDIS_URL
    else {
        "data_folder_in": str(DATA_DIR / "broker" / "queue"),
        "data_folder_out": str(DATA_DIR / "broker" / "queue"),
        "data_folder_processed": str(DATA_DIR / "broker" / "processed"),
        # Without it kombu keeps its exchange tables in ./control, beside
        # whatever directory the process was started from.
        "control_folder": str(DATA_DIR / "broker" / "control"),
        "store_processed": False,
    }
)
# Job state lives in the Job table; Celery keeps no results of its own.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
for _folder in ("queue", "processed", "control"):
    (DATA_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)

# A running job writes a heartbeat this often; one silent for JOB_LOST_AFTER
# seconds lost its worker. The beat task that marks it errored runs every
# JOB_REAP_INTERVAL seconds, so a dead worker's job ends within a minute.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5)
JOB_LOST_AFTER_SECONDS = env_int("JOB_LOST_AFTER_SECONDS", 30)
JOB_REAP_INTERVAL_SECONDS = env_int("JOB_REAP_INTERVAL_SECONDS", 15)
BUILD_CONTEXT_MAX_MB = env_int("BUILD_CONTEXT_MAX_MB", 200)

# Tunnels: the programs that carry them, where Cloudflare's API answers, and
# how the beat check restarts a tunnel whose process died (waiting BACKOFF,
# doubled after each failure up to BACKOFF_MAX, then giving up after
# MAX_RESTARTS failures in a row).
TUNNEL_SSH_BINARY = env_str("TUNNEL_SSH_BINARY", "ssh")
TUNNEL_SSH_KEYSCAN_BINARY = env_str("TUNNEL_SSH_KEYSCAN_BINARY", "ssh-keyscan")
TUNNEL_SSH_KEEPALIVE_SECONDS = env_int("TUNNEL_SSH_KEEPALIVE_SECONDS", 15)
TUNNEL_CLOUDFLARED_BINARY = env_str("TUNNEL_CLOUDFLARED_BINARY", "cloudflared")
TUNNEL_CLOUDFLARED_IMAGE = env_str(
    "TUNNEL_CLOUDFLARED_IMAGE", "cloudflare/cloudflared:latest"
)
TUNNEL_CLOUDFLARE_API_URL = env_str(
    "TUNNEL_CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4"
)
TUNNEL_API_TIMEOUT_SECONDS = env_int("TUNNEL_API_TIMEOUT_SECONDS", 15)
TUNNEL_START_TIMEOUT_SECONDS = env_int("TUNNEL_START_TIMEOUT_SECONDS", 30)
TUNNEL_CHECK_INTERVAL_SECONDS = env_int("TUNNEL_CHECK_INTERVAL_SECONDS", 15)
TUNNEL_RESTART_BACKOFF_SECONDS = env_int("TUNNEL_RESTART_BACKOFF_SECONDS", 5)
TUNNEL_RESTART_BACKOFF_MAX_SECONDS = env_int("TUNNEL_RESTART_BACKOFF_MAX_SECONDS", 300)
TUNNEL_MAX_RESTARTS = env_int("TUNNEL_MAX_RESTARTS", 5)

CELERY_BEAT_SCHEDULE = {
    "reap-lost-jobs": {
        "task": "apps.jobs.tasks.reap_lost_jobs",
        "schedule": float(JOB_REAP_INTERVAL_SECONDS),
    },
    "check-tunnels": {
        "task": "apps.tunnels.tasks.check_tunnels",
        "schedule": float(TUNNEL_CHECK_INTERVAL_SECONDS),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal tokens first: they are told from JWTs by their prefix.
        "apps.accounts.authentication.ApiTokenAuthentication",
        "apps.accounts.authentication.PortalJWTAuthentication",
        "apps.accounts.authentication.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "dockpilot.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["dockpilot.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "dockpilot.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "dockpilot.schema.PortalAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("REFRESH_TOKEN_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # A token carries a digest of the password hash: changing the password
    # invalidates every access and refresh token issued before.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "CHECK_USER_IS_ACTIVE": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DockPilot API",
    "DESCRIPTION": "Manage Docker containers, images, volumes and networks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: the portal may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

DOCKER_HOST = env_str("DOCKER_HOST", "")
DOCKER_READ_TIMEOUT = env_int("DOCKER_READ_TIMEOUT", 30)
# Container lists, inspects and log reads answered before Django when their
# user, environment and access are already known (apps/containers/quickreads.py).
QUICK_READS = env_bool("QUICK_READS", True)

# Where a published port listens when a create request names no address.
# Loopback by default: the engine's own default, every interface, would put
# a container on the network by accident.
PUBLISH_ADDRESS = env_str("PUBLISH_ADDRESS", "127.0.0.1")

ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin")
ADMIN_PASSWORD = env_str("ADMIN_PASSWORD", "")

LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 600)

HEALTH_MIN_FREE_DISK_MB = env_int("HEALTH_MIN_FREE_DISK_MB", 200)

# Live streams (WebSockets): how long a client has to authenticate, how
# often access is checked again, and what a client may leave unacknowledged.
WS_AUTH_TIMEOUT_SECONDS = env_int("WS_AUTH_TIMEOUT_SECONDS", 10)
WS_RECHECK_SECONDS = env_int("WS_RECHECK_SECONDS", 5)
WS_WINDOW_MESSAGES = env_int("WS_WINDOW_MESSAGES", 16)
WS_WINDOW_BYTES = env_int("WS_WINDOW_BYTES", 1024 * 1024)
WS_BUFFER_LINES = env_int("WS_BUFFER_LINES", 10000)
WS_BUFFER_BYTES = env_int("WS_BUFFER_BYTES", 1024 * 1024)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "dockpilot.middleware.RequestIdFilter"},
        "expected_errors": {"()": "dockpilot.logfilters.ExpectedErrorsFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "expected_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "dockpilot": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
