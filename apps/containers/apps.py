from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "apps.containers"
    label = "containers"
    verbose_name = "Docker"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .environments import forget_environments
        from .models import Environment

        post_save.connect(forget_environments, sender=Environment)
        post_delete.connect(forget_environments, sender=Environment)
