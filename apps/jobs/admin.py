from django.contrib import admin

from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only: jobs change state only through their worker and the API."""

    list_display = ["id", "kind", "target", "user", "status", "progress", "queued_at"]
    list_filter = ["status", "kind"]
    search_fields = ["id", "target", "user__username"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
