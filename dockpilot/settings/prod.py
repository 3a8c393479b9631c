"""Production: refuses to start with values that are unsafe on a network."""

from django.core.exceptions import ImproperlyConfigured

from dockpilot.config import env_bool, env_int

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DEBUG

if DEBUG:
    raise ImproperlyConfigured("DOCKPILOT_DEBUG must be off in production settings.")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DOCKPILOT_ALLOWED_HOSTS must list the host names the portal is served on."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
