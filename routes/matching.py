"""What the route fan-out and the route pipeline agree on: the context an event is matched
and rendered in, the filter match, and the shape of a step's job.

The producer matches an event against routes and enqueues each match's first step
(:mod:`producers.route_fanout`); the worker runs a step and enqueues the next
(:mod:`workers.routing.pipeline`). Both build contexts and step jobs here, so a producer
never imports the worker to start a pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contract.names import ROUTE_STEP
from routes.templates import lookup
from storage.models import Event


def event_view(event: Event) -> dict[str, Any]:
    """The stored event as templates see it under ``event``."""
    return {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": dict(event.data or {}),
    }


def event_context(
    event: Mapping[str, Any], outputs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What templates and filters see: ``event``, its ``data``, earlier ``steps``."""
    return {"event": dict(event), "data": event.get("data") or {}, "steps": dict(outputs or {})}


def matches(filter: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """True when every filter path has the required value (a list means any of them)."""
    for path, expected in filter.items():
        actual = lookup(context, tuple(path.split(".")))
        if isinstance(expected, list) and actual not in expected:
            return False
        if not isinstance(expected, list) and actual != expected:
            return False
    return True


def step_job(
    org_id: str, event_id: str, route_id: str, step: int, definition: Mapping[str, Any]
) -> dict[str, Any]:
    """The job running ``step`` of a route for an event (the caller adds the job key)."""
    return {
        "kind": "action",
        "org_id": org_id,
        "provider": definition["provider"],
        "connection": definition.get("connection") or "default",
        "payload": {
            "action": ROUTE_STEP,
            "input": {"event_id": event_id, "route_id": route_id, "step": step},
        },
    }


def step_job_key(event_id: str, route_id: str, step: int) -> str:
    """The enqueue idempotency key of a step job after the first (the pipeline's)."""
    return f"event:{event_id}:route:{route_id}:{step}"
