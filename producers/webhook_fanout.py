"""Fan-out target of outbound webhooks: one ``deliver`` job per enabled endpoint that wants
the event's type, with its delivery row created pending in the same transaction (so an
ordered endpoint sees every queued event as pending, oldest first)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from producers.events import FanoutJob
from storage.models import Event, WebhookEndpoint
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository

DELIVERY_PROVIDER = "custom_webhook"
"""Catalog entry that stands for "a subscriber's own endpoint" on delivery jobs."""


def delivery_job(event_id: str, endpoint_id: str) -> dict[str, object]:
    """The job that delivers one event to one endpoint (org and keys added by the caller)."""
    return {
        "kind": "deliver",
        "provider": DELIVERY_PROVIDER,
        "payload": {"event_id": event_id, "endpoint_id": endpoint_id},
    }


def webhook_fanout(session: Session, event: Event) -> Sequence[FanoutJob]:
    """The deliveries an event calls for among its org's enabled endpoints."""
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == event.org_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    ).all()
    deliveries = WebhookDeliveryRepository(session, event.org_id)
    jobs: list[FanoutJob] = []
    for endpoint in endpoints:
        if endpoint.wants(event.type):
            deliveries.ensure(endpoint.id, event)
            jobs.append(FanoutJob(f"webhook:{endpoint.id}", delivery_job(event.id, endpoint.id)))
    return jobs
