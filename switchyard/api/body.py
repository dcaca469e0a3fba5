"""Reading request bodies with a size bound and answering with field-level errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request, status

from workers.envelope import FieldError


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object, or 413 / 422 saying what is wrong."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise field_errors([FieldError("(body)", f"not valid JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise field_errors([FieldError("(body)", "must be a JSON object")])
    return data


def field_errors(errors: list[FieldError]) -> HTTPException:
    """422 with ``detail: [{field, message}]``."""
    detail = [{"field": e.field, "message": e.message} for e in errors]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _too_large(max_bytes: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, detail=f"body exceeds {max_bytes} bytes"
    )
