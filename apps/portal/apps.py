from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The pages: templates and thin views over the apps' services."""

    name = "apps.portal"
    label = "portal"
    verbose_name = "Portal pages"
