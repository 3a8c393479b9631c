from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, even for superusers."""

    list_display = [
        "timestamp",
        "actor_username",
        "action",
        "resource_type",
        "resource_name",
        "outcome",
        "ip",
    ]
    list_filter = ["outcome", "action", "resource_type"]
    search_fields = ["actor_username", "resource_id", "resource_name", "request_id"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
