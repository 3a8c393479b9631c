"""Log filters: no ERROR line per request for states that are expected."""

from __future__ import annotations

import logging

# 503 (engine down) and 502 (engine failed) are states the engine module
# already logs once, as a warning with the reason; Django would add an
# ERROR line per request on top.
_EXPECTED_STATUSES = {502, 503}


class ExpectedErrorsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) not in _EXPECTED_STATUSES
