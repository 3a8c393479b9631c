from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.audit.admin import AuditedAdminMixin

from .models import User


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
