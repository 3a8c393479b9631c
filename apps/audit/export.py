"""The audit log as CSV, for spreadsheets and archives."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import orjson
from django.db.models import QuerySet

from .models import AuditLog

COLUMNS = [
    "timestamp",
    "actor",
    "action",
    "resource_type",
    "resource_id",
    "resource_name",
    "outcome",
    "reason",
    "ip",
    "request_id",
    "details",
]
# A cell starting with one of these is run as a formula by spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(entry: AuditLog) -> list[str]:
    values = [
        entry.timestamp.isoformat(),
        entry.actor_username,
        entry.action,
        entry.resource_type,
        entry.resource_id,
        entry.resource_name,
        entry.outcome,
        entry.reason,
        entry.ip,
        entry.request_id,
        orjson.dumps(entry.details).decode(),
    ]
    return [_cell(value) for value in values]


def csv_lines(entries: QuerySet[AuditLog] | Iterable[AuditLog]) -> Iterator[str]:
    """CSV text, a line at a time, so a long log streams in constant memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    rows = (
        entries.iterator(chunk_size=500) if isinstance(entries, QuerySet) else entries
    )
    for entry in rows:
        yield writer.writerow(_row(entry))
