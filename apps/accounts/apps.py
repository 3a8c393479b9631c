from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_delete, post_save

        from . import authcache, schema, signals  # noqa: F401 - registers, connects
        from .forms import ThrottledAdminLoginForm
        from .models import EndedSession, User

        admin.site.login_form = ThrottledAdminLoginForm
        for signal in (post_save, post_delete):
            signal.connect(authcache.user_changed, sender=User)
            signal.connect(authcache.session_changed, sender=EndedSession)
