"""Request ids: one id per request, in the logs, the audit rows and a header."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
# A client may pass its own id so that its logs and ours line up; anything
# that is not a short token is replaced, so logs cannot be forged through it.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(given: str) -> str:
    """The id of a request whose client sent ``given`` (or nothing) as its id."""
    return given if _CLIENT_ID.match(given) else uuid.uuid4().hex


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def bound_request_id(value: str) -> Iterator[None]:
    """Carry a request's id into work done for it elsewhere (a Celery job)."""
    token = _request_id.set(value or "-")
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """Give each request an id (the client's X-Request-ID when it is sane).

    Both sync and async capable: under Daphne the middleware chain then stays
    on the event loop, with one hand-off to a thread for the view.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        token = self._begin(request)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        return self._end(request, response)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        token = self._begin(request)
        try:
            response = await self.get_response(request)
        finally:
            _request_id.reset(token)
        return self._end(request, response)

    @staticmethod
    def _begin(request: HttpRequest) -> contextvars.Token[str]:
        request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        return _request_id.set(request_id)

    @staticmethod
    def _end(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
