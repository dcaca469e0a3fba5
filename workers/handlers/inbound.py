"""The ``inbound`` kind: publish a verified provider webhook as an event (source ``inbound``),
so outbound webhooks and routes can react to it like to any other event.

The event type is ``<provider>.<topic>`` with characters events do not allow replaced
(``shopify.orders.create``, ``stripe.invoice.paid``). A payload too large for an event is
left out (the event says so and names the stored webhook); the job still succeeds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from contract.envelope import InboundJob, JobEnvelope
from storage.errors import NotFoundError
from storage.repositories.inbound_webhooks import InboundWebhookRepository
from workers.context import WorkerContext
from workers.errors import PermanentJobError, UnsupportedJobError

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.:-]+")


def event_type(provider: str, topic: str) -> str:
    """``shopify`` + ``orders/create`` -> ``shopify.orders.create`` (at most 100 characters)."""
    cleaned = _NOT_ALLOWED.sub(".", topic.replace("/", ".")).strip(".") or "event"
    return f"{provider}.{cleaned}"[:100]


def handle(job: JobEnvelope, context: WorkerContext) -> None:
    """Publish the stored webhook once (the event's idempotency key is the webhook's id)."""
    assert isinstance(job, InboundJob)
    if context.events is None:
        raise UnsupportedJobError("no event publisher in this worker")
    with context.sessions() as session:
        try:
            row = InboundWebhookRepository(session, job.org_id).get(job.payload.event_id)
        except NotFoundError as exc:
            raise PermanentJobError(f"{exc}; nothing to publish") from None
        data = _event_data(row.provider, row.id, row.connection_id, row.topic, row.payload)
        data = _bounded(data, context.limits.max_payload_bytes)
        type_ = event_type(row.provider, row.topic)
    published = context.events.publish(
        job.org_id, type_, data, source="inbound", idempotency_key=f"inbound:{row.id}"
    )
    event_id = getattr(published, "event_id", None)
    with context.sessions.begin() as session:
        repo = InboundWebhookRepository(session, job.org_id)
        repo.mark_processed(repo.get(job.payload.event_id), str(event_id or ""))


def _event_data(
    provider: str, inbound_id: str, connection_id: str | None, topic: str, payload: Any
) -> dict[str, Any]:
    return {
        "provider": provider,
        "topic": topic,
        "inbound_id": inbound_id,
        "connection_id": connection_id,
        "payload": payload,
    }


def _bounded(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """The event data, without the payload when it would exceed the event size limit."""
    if len(json.dumps(data, separators=(",", ":"), default=str).encode()) <= limit:
        return data
    return {**data, "payload": None, "payload_omitted": True}
