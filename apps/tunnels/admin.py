from django.contrib import admin

from apps.audit.admin import ReadOnlyAdmin

from .models import TunnelConfig


@admin.register(TunnelConfig)
class TunnelConfigAdmin(ReadOnlyAdmin):
    """Tunnels change through the API, which audits and supervises them, and
    deleting one must tear down what the provider holds; secrets never show."""

    list_display = ["name", "provider", "environment", "container_name", "status"]
    list_filter = ["provider", "status"]
    search_fields = ["name", "container_name", "hostname", "owner__username"]
    exclude = ["secrets_sealed"]
