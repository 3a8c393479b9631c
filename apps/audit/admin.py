from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditLog, Outcome
from .services import record


class AuditedAdminMixin:
    """Audit what operators change through the Django admin.

    ``audit_prefix`` names the actions: ``<prefix>.create``, ``.update`` and
    ``.delete`` must exist in the fixed action set.
    """

    audit_prefix = ""

    def _audit(self, request: HttpRequest, verb: str, obj: Any, **details: Any) -> None:
        record(
            f"{self.audit_prefix}.{verb}",
            request=request,
            resource_type=self.audit_prefix,
            resource_id=str(obj.pk),
            resource_name=str(obj),
            outcome=Outcome.SUCCESS,
            details={"via": "admin", **details},
        )

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        self._audit(
            request,
            "update" if change else "create",
            obj,
            changed=list(form.changed_data),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk, name = obj.pk, str(obj)
        super().delete_model(request, obj)  # type: ignore[misc]
        obj.pk = pk
        self._audit(request, "delete", obj, name=name)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        removed = list(queryset)
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for obj in removed:
            self._audit(request, "delete", obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to operators, changed only through the portal's own services.

    Records written by workers or by their owners through the API (audit
    rows, jobs, tokens) are listed and searchable here but never edited, so
    the admin cannot bypass a service's checks or its audit row.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only, even for superusers."""

    list_display = [
        "timestamp",
        "actor_username",
        "action",
        "resource_type",
        "resource_name",
        "outcome",
        "ip",
    ]
    list_filter = ["outcome", "action", "resource_type"]
    search_fields = ["actor_username", "resource_id", "resource_name", "request_id"]
    date_hierarchy = "timestamp"
