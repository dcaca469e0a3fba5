"""One error shape for every refusal the API makes, and the handlers that produce it.

Every 4xx and 503 answers ``{"error": {"code", "message", "fields": [{"field", "message"}]}}``:
``code`` is a stable machine-readable word (``invalid_input``, ``not_found``...), ``message``
is for people, ``fields`` names each offending input (empty when no single input is at fault).
:func:`error_response` builds that answer. Services raise the
:mod:`switchyard.services.errors` family, routers raise :class:`ApiError` (or FastAPI's
``HTTPException``) for refusals of their own, and the handlers installed by
:func:`install_error_handlers` map both once; no router catches a service error.
Middleware, which runs outside FastAPI's handlers, calls :func:`error_response` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.envelope import FieldError
from switchyard.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ProviderFailed,
    Refused,
    ServiceError,
)

CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    502: "bad_gateway",
    503: "unavailable",
}

SERVICE_STATUS: Mapping[type, int] = {
    InvalidInput: 422,
    Refused: 400,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    ProviderFailed: 502,
}
"""The status each service refusal answers with (a subclass answers as its nearest base)."""


class ErrorField(BaseModel):
    """One offending input: its dotted path (``payload.input.x``, ``query.limit``) and why."""

    field: str = Field(examples=["provider"])
    message: str = Field(examples=["unknown provider 'myspace'"])


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable reason.", examples=["invalid_input"])
    message: str = Field(examples=["1 invalid field"])
    fields: list[ErrorField] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """The body of every 4xx and 503 answer."""

    model_config = ConfigDict(title="Error")

    error: ErrorDetail


class ApiError(Exception):
    """A refusal a router raises; the handler answers it in the one error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        fields: Iterable[FieldError] = (),
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = list(fields)
        self.headers = dict(headers or {})


def invalid(errors: Sequence[FieldError]) -> ApiError:
    """422 naming every offending field."""
    count = len(errors)
    return ApiError(422, f"{count} invalid field{'s' if count != 1 else ''}", errors)


def error_response(
    status: int,
    message: str,
    fields: Iterable[FieldError] = (),
    *,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> JSONResponse:
    """The one error answer: ``{"error": {"code", "message", "fields"}}``."""
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message,
            "fields": [{"field": f.field, "message": f.message} for f in fields],
        }
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    """Map every refusal to the one error shape, once for the whole app."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.fields, headers=exc.headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return service_error_response(exc)


def service_error_response(exc: ServiceError) -> JSONResponse:
    """A service refusal in the one error shape, with its status (:data:`SERVICE_STATUS`)."""
    return error_response(status_of(exc), exc.message, exc.fields)


def status_of(exc: ServiceError) -> int:
    """The HTTP status of a service refusal: that of its nearest mapped class (400 if none)."""
    for kind in type(exc).__mro__:
        if kind in SERVICE_STATUS:
            return SERVICE_STATUS[kind]
    return 400


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException | HTTPException)
    detail: Any = exc.detail
    fields: list[FieldError] = []
    if isinstance(detail, list):
        fields = [FieldError(str(d["field"]), str(d["message"])) for d in detail]
        detail = fields[0].message if len(fields) == 1 else f"{len(fields)} invalid fields"
    return error_response(exc.status_code, str(detail), fields, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    failure = invalid(fields_of(exc.errors()))
    return error_response(failure.status, failure.message, failure.fields)


def fields_of(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Pydantic's validation errors as the offending fields (for bodies checked by hand,
    such as each job of a batch)."""
    return [FieldError(_location(e), _message(e)) for e in errors]


def _location(error: Mapping[str, Any]) -> str:
    """``("body", "payload", "action")`` -> ``payload.action``; ``("query", "limit")`` keeps
    its source so a query parameter is not mistaken for a body field."""
    if error.get("type") == "json_invalid":
        return "(body)"
    parts = [str(p) for p in error["loc"]]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    if error.get("type") == "json_invalid":
        return f"not valid JSON: {error.get('ctx', {}).get('error', 'malformed')}"
    return str(error["msg"])
