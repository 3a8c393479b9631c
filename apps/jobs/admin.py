from django.contrib import admin

from apps.audit.admin import ReadOnlyAdmin

from .models import Job, JobOutput


class JobOutputInline(admin.TabularInline):
    """A job's output in order, read-only like the job."""

    model = JobOutput
    fields = ["seq", "text", "created_at"]
    readonly_fields = ["seq", "text", "created_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Jobs change state only through their worker and the API."""

    list_display = ["id", "kind", "target", "user", "status", "progress", "queued_at"]
    list_filter = ["status", "kind"]
    search_fields = ["id", "target", "user__username"]
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [JobOutputInline]
