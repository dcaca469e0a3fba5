"""``POST /v1/events``: upstream apps publish events; Switchyard fans them out to the org's
webhook endpoints and routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from producers.events import InvalidEventError
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.body import field_errors, read_json_object
from workers.envelope import FieldError

router = APIRouter(prefix="/v1/events", tags=["events"])
_OPTIONAL_TEXT = ("idempotency_key", "correlation_id")
CLIENT_FIELDS = frozenset({"type", "data", "org_id", *_OPTIONAL_TEXT})


@router.post("", status_code=status.HTTP_201_CREATED)
async def publish_event(
    request: Request, response: Response, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, object]:
    """Publish an event: 201 with its id, 200 with the first event's id for a repeated key."""
    body = await read_json_object(request, runtime.settings.api.max_body_bytes)
    org_id = principal.org_for(body.get("org_id"))
    errors = _shape_errors(body)
    if errors:
        raise field_errors(errors)
    options = {name: body[name] for name in _OPTIONAL_TEXT if body.get(name) is not None}
    try:
        published = await run_in_threadpool(
            runtime.event_publisher.publish, org_id, body["type"], body.get("data", {}), **options
        )
    except InvalidEventError as exc:
        raise field_errors(exc.errors) from None
    if published.duplicate:
        response.status_code = status.HTTP_200_OK
    return {"id": published.event_id, "duplicate": published.duplicate, "jobs": published.jobs}


def _shape_errors(body: dict[str, Any]) -> list[FieldError]:
    errors = [FieldError(name, "unknown field") for name in sorted(set(body) - CLIENT_FIELDS)]
    if not isinstance(body.get("type"), str):
        errors.append(FieldError("type", "required, a string such as 'QR_SCANNED'"))
    if not isinstance(body.get("data", {}), dict):
        errors.append(FieldError("data", "must be a JSON object"))
    errors.extend(
        FieldError(name, "must be a string")
        for name in _OPTIONAL_TEXT
        if body.get(name) is not None and not isinstance(body[name], str)
    )
    return errors
