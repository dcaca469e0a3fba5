"""Replaying outbound webhook deliveries: one by id, or every failed one since a time.

A replay is a new ``deliver`` job for the same (event, endpoint); its new job id opens a
new round on the delivery, so it gets the full retry schedule again. Deliveries still in
progress are refused (a second job would race the first), and so are deliveries to a
disabled endpoint (enable it first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from producers.enqueue import Enqueued
from producers.webhook_fanout import delivery_job
from storage.models import WebhookDelivery, WebhookEndpoint
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from switchyard.services.errors import Conflict, translated

Enqueue = Callable[[Mapping[str, Any]], Enqueued]
MAX_REPLAY = 1_000


class ReplayRefusedError(Conflict):
    """A delivery cannot be replayed now; the message says why."""


@dataclass
class ReplayReport:
    """New job per replayed delivery id, and the reason for each refused one."""

    replayed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "refused": self.refused}


@translated
def replay_delivery(
    sessions: sessionmaker[Session], enqueue: Enqueue, org_id: str, delivery_id: str
) -> str:
    """Replay one delivery of the org; returns the new job id or raises why not."""
    with sessions() as session:
        delivery = WebhookDeliveryRepository(session, org_id).get(delivery_id)
        _check(session, org_id, delivery)
        job, status = _job(org_id, delivery), delivery.status
    return _send(sessions, enqueue, org_id, delivery_id, job, status)


@translated
def replay_failed(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    org_id: str,
    *,
    since: datetime,
    endpoint_id: str | None = None,
    limit: int = MAX_REPLAY,
) -> ReplayReport:
    """Replay every failed delivery of the org that changed since ``since``."""
    report = ReplayReport()
    with sessions() as session:
        failed = WebhookDeliveryRepository(session, org_id).list(
            endpoint_id=endpoint_id, status="failed", since=since, limit=limit
        )
        jobs: dict[str, dict[str, Any]] = {}
        for delivery in failed:
            try:
                _check(session, org_id, delivery)
            except ReplayRefusedError as exc:
                report.refused[delivery.id] = str(exc)
                continue
            jobs[delivery.id] = _job(org_id, delivery)
    for delivery_id, job in jobs.items():
        try:
            report.replayed[delivery_id] = _send(
                sessions, enqueue, org_id, delivery_id, job, "failed"
            )
        except ReplayRefusedError as exc:
            report.refused[delivery_id] = str(exc)
    return report


def _send(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    org_id: str,
    delivery_id: str,
    job: dict[str, Any],
    previous_status: str,
) -> str:
    """Claim the delivery for the new job (so a second replay sees it in progress), enqueue."""
    with sessions.begin() as session:
        if not WebhookDeliveryRepository(session, org_id).claim_replay(delivery_id, job["id"]):
            raise ReplayRefusedError("the delivery is still in progress")
    try:
        return enqueue(job).job_id
    except Exception:
        with sessions.begin() as session:
            WebhookDeliveryRepository(session, org_id).restore(delivery_id, previous_status)
        raise


def _check(session: Session, org_id: str, delivery: WebhookDelivery) -> None:
    if delivery.status == "pending":
        raise ReplayRefusedError("the delivery is still in progress")
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)  # same org as the delivery
    if endpoint is None or endpoint.org_id != org_id:
        raise ReplayRefusedError("the endpoint no longer exists")
    if not endpoint.enabled:
        raise ReplayRefusedError(f"endpoint {endpoint.id} is disabled; enable it first")


def _job(org_id: str, delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        **delivery_job(delivery.event_id, delivery.endpoint_id),
        "org_id": org_id,
        "id": uuid.uuid4().hex,
        "idempotency_key": f"webhook-replay:{delivery.id}:{uuid.uuid4().hex}",
    }
