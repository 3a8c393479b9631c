from django.contrib import admin

from apps.audit.admin import ReadOnlyAdmin

from .models import ComposeProject


@admin.register(ComposeProject)
class ComposeProjectAdmin(ReadOnlyAdmin):
    """Files are changed through the API, which validates them and writes them
    to disk; deploys run as jobs."""

    list_display = ["name", "environment", "owner", "status", "adopted", "updated_at"]
    list_filter = ["environment", "status", "adopted"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["last_job"]
