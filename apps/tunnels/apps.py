from django.apps import AppConfig


class TunnelsConfig(AppConfig):
    name = "apps.tunnels"
    label = "tunnels"
    verbose_name = "Tunnels"

    def ready(self) -> None:
        # Containers announce their start and removal; tunnels follow them.
        from . import receivers  # noqa: F401
