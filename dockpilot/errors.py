"""Portal errors and the one handler that renders every API error as JSON.

Every error body is ``{"code": ..., "message": ..., "details": {...}}`` and
the message tells the client what to change.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("dockpilot.errors")


class PortalError(exceptions.APIException):
    """An error with a stable code, a message for people and optional details."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or self.default_detail, code or self.default_code)
        self.code = code or self.default_code
        self.details = details or {}


class BadRequest(PortalError):
    pass


class NotFound(PortalError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class Conflict(PortalError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class EngineUnavailable(PortalError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "engine_unavailable"
    default_detail = "The Docker engine cannot be reached."


class PayloadTooLarge(PortalError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = (
        "The request body is too large; uploads go as multipart files (build "
        "contexts), other bodies stay small."
    )


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _first_message(errors: Any, path: str = "") -> str:
    """Flatten the first validation error into 'field: message'."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):
                # DRF reports errors of a list of objects keyed by position.
                return _first_message(value, f"{path}[{key}]")
            field = key if key != "non_field_errors" else ""
            prefix = f"{path}.{field}" if path and field else (field or path)
            return _first_message(value, prefix)
    if isinstance(errors, list) and errors:
        if all(isinstance(item, str) for item in errors):
            text = str(errors[0])
            return f"{path}: {text}" if path else text
        for index, item in enumerate(errors):
            if item:
                return _first_message(item, f"{path}[{index}]")
    text = str(errors)
    return f"{path}: {text}" if path else text


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, PortalError):
        return {"code": exc.code, "message": str(exc.detail), "details": exc.details}
    if isinstance(exc, exceptions.ValidationError):
        return {
            "code": "invalid",
            "message": _first_message(exc.detail),
            "details": {"fields": exc.detail},
        }
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
    detail = exc.detail
    message = (
        str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
    )
    details: dict[str, Any] = {}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        details["retry_after"] = int(wait)
    return {"code": code or "error", "message": message, "details": details}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF hook: render API errors in the portal's one error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, RecursionError):
        exc = exceptions.ParseError("The body nests too deeply to be read.")
    elif isinstance(exc, OverflowError):
        # A number in the URL or the query too large for the database.
        exc = BadRequest(
            "A number in the request is out of range.", code="out_of_range"
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"))
        return Response(
            {
                "code": "server_error",
                "message": "Internal error; see the server log.",
                "details": {},
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)  # noqa: S101
    response.data = error_body(exc)
    return response


def json_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse(
        {
            "code": "not_found",
            "message": f"No route for {request.path}.",
            "details": {},
        },
        status=404,
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "code": "server_error",
            "message": "Internal error; see the server log.",
            "details": {},
        },
        status=500,
    )
