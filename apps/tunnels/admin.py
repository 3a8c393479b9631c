from django.contrib import admin

from apps.audit.admin import AuditedAdminMixin

from .models import TunnelConfig


@admin.register(TunnelConfig)
class TunnelConfigAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read-only here: tunnels change through the API, which audits and
    supervises them; secrets are never shown."""

    audit_prefix = "tunnel"
    list_display = ["name", "provider", "environment", "container_name", "status"]
    list_filter = ["provider", "status"]
    search_fields = ["name", "container_name", "hostname", "owner__username"]
    exclude = ["secrets_sealed"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Deleting must tear down what the provider holds: through the API.
        return False
