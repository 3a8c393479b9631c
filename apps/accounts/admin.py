from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = [
        "username",
        "email",
        "role",
        "is_active",
        "last_login",
        "created_at",
    ]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = (*UserAdmin.fieldsets, ("Portal", {"fields": ("role",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Portal", {"fields": ("role",)}))
