"""``job.succeeded`` and ``job.dead``: the upstream app learns how a job ended.

Opt-in per job (``notify: true`` in the envelope). The event goes through the ordinary
events system (stored, fanned out to the org's subscribed webhook endpoints and routes), so
it arrives signed like any other event. Its idempotency key is the job id and outcome: a
retried publish never delivers twice. Data carries ids and outcomes only, never payloads.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from dramatiq.broker import MessageProxy

from workers.context import EventSink
from workers.job_fields import job_fields

logger = logging.getLogger("switchyard.job_events")
EVENT_TYPES = {"succeeded": "job.succeeded", "dead": "job.dead"}


class CompletionEvents:
    """Publishes the end of each ``notify`` job (a :data:`CompletionHook`)."""

    def __init__(self, events: EventSink) -> None:
        self.events = events

    def __call__(self, message: MessageProxy, state: str, fields: dict[str, Any]) -> None:
        envelope = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
        if envelope.get("notify") is not True or state not in EVENT_TYPES:
            return
        job = job_fields(message)
        data = event_data(envelope, state, fields)
        try:
            self.events.publish(
                job.org,
                EVENT_TYPES[state],
                data,
                source="system",
                idempotency_key=f"job:{job.id}:{state}",
                correlation_id=job.correlation_id,
            )
        except Exception:  # the job's outcome stands; say loudly that its event is missing
            logger.exception("could not publish %s for job %s", EVENT_TYPES[state], job.id)


def event_data(envelope: dict[str, Any], state: str, fields: dict[str, Any]) -> dict[str, Any]:
    """What the event says: the job's identity and outcome (no payload, no secrets)."""
    raw = envelope.get("payload")
    payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
    data: dict[str, Any] = {
        "job_id": envelope.get("id"),
        "kind": envelope.get("kind"),
        "provider": envelope.get("provider"),
        "action": payload.get("action"),
        "model": payload.get("model"),
        "state": state,
        "attempts": fields.get("attempts"),
    }
    if state == "succeeded" and fields.get("result"):
        data["result"] = json.loads(fields["result"])
    if state == "dead":
        data["dead"] = {
            "reason": fields.get("dead_reason"),
            "dead_job_id": fields.get("dead_job_id") or None,
        }
    return {k: v for k, v in data.items() if v is not None}
