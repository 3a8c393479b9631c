"""The audit log for admins: filters, detail, CSV export."""

from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.audit.export import csv_lines
from apps.audit.filters import filter_audit
from apps.audit.models import AuditLog

from ..forms import AuditFilterForm
from ..pages import admin_page, show

logger = logging.getLogger("dockpilot.portal.views.audit")
PAGE_SIZE = 50


def _filtered(
    request: HttpRequest,
) -> tuple[AuditFilterForm, QuerySet[AuditLog]]:
    form = AuditFilterForm(request.GET or None)
    rows = filter_audit(AuditLog.objects.order_by("-timestamp", "-id"), form.params())
    return form, rows


@admin_page
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form, rows = _filtered(request)
    paginator: Paginator[AuditLog] = Paginator(rows, PAGE_SIZE)
    entries = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "entries": entries, "query": query.urlencode()}
    return show(request, "portal/audit/list.html", context)


@admin_page
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(AuditLog, pk=pk)
    return show(request, "portal/audit/detail.html", {"entry": entry})


@admin_page
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _, rows = _filtered(request)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    logger.info("audit log exported by %s", request.user)
    return response
