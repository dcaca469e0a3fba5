"""``POST /v1/events``: upstream apps publish events; Switchyard fans them out to the org's
webhook endpoints and routes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from producers.events import InvalidEventError
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.errors import invalid
from switchyard.api.schemas.jobs import EventPublished, EventRequest
from switchyard.api.scope import acting_org

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EventPublished, "description": "A repeated idempotency key."}},
)
async def publish_event(
    event: EventRequest, response: Response, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> EventPublished:
    """Publish an event: 201 with its id, 200 with the first event's id for a repeated key."""
    org_id = acting_org(principal, runtime, event.org_id)
    options = event.model_dump(include={"idempotency_key", "correlation_id"}, exclude_none=True)
    try:
        published = await run_in_threadpool(
            runtime.event_publisher.publish, org_id, event.type, event.data, **options
        )
    except InvalidEventError as exc:
        raise invalid(exc.errors) from None
    if published.duplicate:
        response.status_code = status.HTTP_200_OK
    return EventPublished(id=published.event_id, duplicate=published.duplicate, jobs=published.jobs)
