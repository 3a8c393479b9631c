from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from . import schema, signals  # noqa: F401 - registers, connects
        from .forms import ThrottledAdminLoginForm

        admin.site.login_form = ThrottledAdminLoginForm
