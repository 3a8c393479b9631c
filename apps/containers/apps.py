from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "apps.containers"
    label = "containers"
    verbose_name = "Docker"
