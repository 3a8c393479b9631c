from django.apps import AppConfig


class ComposeConfig(AppConfig):
    name = "apps.compose"
    label = "compose"
    verbose_name = "Compose projects"
