from django.contrib import admin

from .models import Environment


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "endpoint", "is_default", "status", "last_seen"]
    list_filter = ["status", "is_default"]
    search_fields = ["name", "endpoint"]
    readonly_fields = ["status", "last_seen", "last_error", "created_at"]
