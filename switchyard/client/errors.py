"""What the Switchyard client raises, drawn once (httpx style)::

    SwitchyardError             base of everything below
    ├── TransportError          the API could not be reached (after the retries allowed)
    ├── WaitTimeout             ``wait()`` gave up before the job reached a terminal state
    └── ApiError                the API answered an error: status, code, message, fields
        ├── AuthenticationError     401: missing, unknown or revoked key
        ├── PermissionDeniedError   403: the key may not act on that org or resource
        ├── NotFoundError           404
        ├── ConflictError           409: e.g. cancelling a job that already finished
        ├── InvalidInputError       413, 415, 422: ``fields`` names each input at fault
        └── UnavailableError        503 (after retries): nothing was accepted; retry later

Every :class:`ApiError` carries the one error shape of the API (``code``, ``message``,
``fields``) and the ``response``; nothing else from httpx leaks out of the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from switchyard.client.models import ErrorField, JobStatus


class SwitchyardError(Exception):
    """Base of every error the client raises."""


class TransportError(SwitchyardError):
    """The API could not be reached: connection refused, timed out, reset."""


class WaitTimeout(SwitchyardError):
    """The job was still not finished when ``wait()``'s timeout ran out."""

    def __init__(self, message: str, last: JobStatus) -> None:
        super().__init__(message)
        self.last = last


class ApiError(SwitchyardError):
    """The API refused the request; ``fields`` names each offending input."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[ErrorField],
        response: httpx.Response,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.response = response


class AuthenticationError(ApiError):
    """401."""


class PermissionDeniedError(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409."""


class InvalidInputError(ApiError):
    """413, 415 or 422."""


class UnavailableError(ApiError):
    """503: Redis or the database is unreachable; ``retry_after`` in seconds if given."""

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.response)


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidInputError,
    415: InvalidInputError,
    422: InvalidInputError,
    503: UnavailableError,
}


def error_for(response: httpx.Response) -> ApiError:
    """The error of a 4xx/5xx answer, read from the one error shape when it has it."""
    from switchyard.client.models import ErrorField

    detail: Any = {}
    try:
        body = response.json()
        detail = body.get("error", {}) if isinstance(body, dict) else {}
    except ValueError:
        pass
    fields = [ErrorField.model_validate(f) for f in detail.get("fields", [])]
    cls = _BY_STATUS.get(response.status_code, ApiError)
    return cls(
        response.status_code,
        str(detail.get("code", "error")),
        str(detail.get("message", response.reason_phrase)),
        fields,
        response,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the API sends delta-seconds), or None."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
