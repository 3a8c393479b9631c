from django.contrib import admin

from apps.audit.admin import AuditedAdminMixin

from .models import Environment


@admin.register(Environment)
class EnvironmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_prefix = "environment"
    list_display = ["name", "endpoint", "is_default", "status", "last_seen"]
    list_filter = ["status", "is_default"]
    search_fields = ["name", "endpoint"]
    readonly_fields = ["status", "last_seen", "last_error", "created_at"]
