"""The admin site's login form, with the same failure limit as the API."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from . import throttles


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self) -> dict:
        username = self.data.get("username", "")
        ip = self.request.META.get("REMOTE_ADDR") if self.request else None
        wait = throttles.retry_after(ip, str(username))
        if wait:
            raise forms.ValidationError(
                f"Too many failed logins; try again in {wait} seconds.",
                code="throttled",
            )
        return super().clean()
