from django.contrib import admin

from apps.audit.admin import AuditedAdminMixin

from .models import RegistryCredential


@admin.register(RegistryCredential)
class RegistryCredentialAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read-only here: secrets are entered through the API, sealed, never shown."""

    audit_prefix = "registry"
    list_display = ["name", "registry", "username", "owner", "created_at"]
    search_fields = ["name", "registry", "username", "owner__username"]
    exclude = ["secret_sealed"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
