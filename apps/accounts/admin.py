from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.audit.admin import AuditedAdminMixin, ReadOnlyAdmin

from .models import ApiToken, EndedSession, Team, User


@admin.register(User)
class PortalUserAdmin(AuditedAdminMixin, UserAdmin):
    audit_prefix = "user"
    list_display = [
        "username",
        "email",
        "role",
        "is_active",
        "last_login",
        "created_at",
    ]
    list_filter = ["role", "is_active"]
    # Both follow the role (see User.save), so they are shown, not edited.
    readonly_fields = ["is_superuser", "is_staff"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Portal", {"fields": ("role",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Portal", {"fields": ("role",)}))


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_prefix = "team"
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]
    fields = ["name", "description"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are made and revoked by their owners, through the API."""

    list_display = ["prefix", "name", "owner", "scopes", "expires_at", "last_used_at"]
    list_filter = ["scopes"]
    search_fields = ["prefix", "name", "owner__username"]
    exclude = ["secret_hash"]


@admin.register(EndedSession)
class EndedSessionAdmin(ReadOnlyAdmin):
    """Logins ended by logout; written by the logout service only."""

    list_display = ["sid", "user", "ended_at"]
    search_fields = ["sid", "user__username"]
    date_hierarchy = "ended_at"
