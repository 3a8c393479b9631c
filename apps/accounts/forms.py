"""Session login forms (admin site, pages), with the failure limit of the API."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from . import throttles


class ThrottledLoginMixin:
    """Refuse to even check a password while the IP or username is throttled."""

    def clean(self) -> dict:
        username = getattr(self, "data", {}).get("username", "")
        meta = getattr(getattr(self, "request", None), "META", {})
        wait = throttles.retry_after(meta.get("REMOTE_ADDR"), str(username))
        if wait:
            raise forms.ValidationError(
                f"Too many failed logins; try again in {wait} seconds.",
                code="throttled",
            )
        return super().clean()  # type: ignore[misc]


class ThrottledAdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class ThrottledLoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The pages' login: any active user, whatever the role."""
