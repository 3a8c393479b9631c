from typing import Any

from django.contrib import admin

from apps.audit.admin import AuditedAdminMixin

from .models import Environment, ResourceOwnership


@admin.register(Environment)
class EnvironmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_prefix = "environment"
    list_display = ["name", "endpoint", "is_default", "status", "last_seen"]
    list_filter = ["status", "is_default"]
    search_fields = ["name", "endpoint"]
    readonly_fields = ["status", "last_seen", "last_error", "created_at"]


@admin.register(ResourceOwnership)
class ResourceOwnershipAdmin(admin.ModelAdmin):
    """Read-only here: assigning goes through /api/v1/ownerships/ (audited)."""

    list_display = [
        "kind",
        "name",
        "engine_id",
        "environment",
        "owner_user",
        "owner_team",
    ]
    list_filter = ["kind", "environment"]
    search_fields = ["name", "engine_id", "owner_user__username", "owner_team__name"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
