from django.contrib import admin

from .models import ComposeProject


@admin.register(ComposeProject)
class ComposeProjectAdmin(admin.ModelAdmin):
    """Read-only here: files are changed through the API, which validates them
    and writes them to disk; deploys run as jobs."""

    list_display = ["name", "environment", "owner", "status", "adopted", "updated_at"]
    list_filter = ["environment", "status", "adopted"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["last_job"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
