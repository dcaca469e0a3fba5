"""Deliveries of events to one org's webhook endpoints, and the log of every attempt.

A delivery row exists per (endpoint, event) from fan-out on. Each job that works on it opens
a *round*: the first job, a replay, or a dead-letter replay (each a new job id) resets the
attempt count, so a replayed delivery gets the full retry schedule again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import (
    ATTEMPT_OUTCOMES,
    DELIVERY_STATUSES,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from storage.repositories.checks import require_aware, require_choice, require_limit
from storage.types import utcnow

EXCERPT_LIMIT = 1_024
ERROR_LIMIT = 500


@dataclass(frozen=True)
class AttemptRecord:
    """What one attempt produced, as the delivery worker saw it."""

    outcome: str
    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str | None = None


class WebhookDeliveryRepository:
    """Open rounds, log attempts and list deliveries of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def ensure(self, endpoint_id: str, event: Event) -> WebhookDelivery:
        """The delivery of ``event`` to the endpoint, created pending if new (race-safe)."""
        found = self._find(endpoint_id, event.id)
        if found is not None:
            return found
        delivery = WebhookDelivery(
            org_id=self._org_id,
            endpoint_id=endpoint_id,
            event_id=event.id,
            event_type=event.type,
            event_created_at=event.created_at,
        )
        try:
            with self._session.begin_nested():
                self._session.add(delivery)
        except IntegrityError:  # another writer created it between our read and insert
            found = self._find(endpoint_id, event.id)
            if found is None:
                raise
            return found
        return delivery

    def ensure_with(
        self, endpoint_id: str, event_id: str
    ) -> tuple[WebhookEndpoint, Event, WebhookDelivery]:
        """The endpoint, the event and its delivery to the endpoint (created pending if new),
        read in one query; :class:`NotFoundError` when the endpoint or event is not the org's."""
        found = self._session.execute(
            select(WebhookEndpoint, Event, WebhookDelivery)
            .select_from(WebhookEndpoint)
            .join(Event, and_(Event.id == event_id, Event.org_id == self._org_id))
            .outerjoin(
                WebhookDelivery,
                and_(
                    WebhookDelivery.endpoint_id == WebhookEndpoint.id,
                    WebhookDelivery.event_id == Event.id,
                ),
            )
            .where(WebhookEndpoint.org_id == self._org_id, WebhookEndpoint.id == endpoint_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError("webhook endpoint or event", f"{endpoint_id}/{event_id}")
        endpoint, event, delivery = found
        return endpoint, event, delivery or self.ensure(endpoint.id, event)

    def open_round(self, delivery: WebhookDelivery, job_id: str) -> WebhookDelivery:
        """Attach the job to the delivery; a job new to it restarts the attempt count."""
        if delivery.job_id != job_id:
            delivery.job_id = job_id
            delivery.attempts = 0
            delivery.status = "pending"
            self._session.flush()
        return delivery

    def claim_replay(self, delivery_id: str, job_id: str) -> bool:
        """Open a replay's round for ``job_id`` unless the delivery is in progress (atomic)."""
        result = self._session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.org_id == self._org_id,
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status != "pending",
            )
            .values(job_id=job_id, attempts=0, status="pending", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def restore(self, delivery_id: str, status: str) -> None:
        """Undo a replay claim whose job could not be enqueued."""
        self._session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.org_id == self._org_id, WebhookDelivery.id == delivery_id)
            .values(status=status)
        )

    def record_attempt(
        self, delivery: WebhookDelivery, record: AttemptRecord, *, status: str
    ) -> WebhookAttempt:
        """Log one attempt and move the delivery to ``status`` (pending, delivered, failed)."""
        require_choice("outcome", record.outcome, ATTEMPT_OUTCOMES)
        require_choice("status", status, DELIVERY_STATUSES)
        delivery.attempts += 1
        delivery.status = status
        delivery.last_status_code = record.status_code
        delivery.last_error = (record.error or "")[:ERROR_LIMIT] or None
        if status == "delivered":
            delivery.delivered_at = utcnow()
        attempt = WebhookAttempt(
            org_id=self._org_id,
            delivery_id=delivery.id,
            number=delivery.attempts,
            outcome=record.outcome,
            status_code=record.status_code,
            latency_ms=record.latency_ms,
            response_excerpt=record.response_excerpt[:EXCERPT_LIMIT],
            error=(record.error or "")[:ERROR_LIMIT] or None,
        )
        self._session.add(attempt)
        self._session.flush()
        return attempt

    def mark(self, delivery: WebhookDelivery, status: str, error: str) -> None:
        """Close a delivery without an attempt (its endpoint is gone or disabled)."""
        require_choice("status", status, DELIVERY_STATUSES)
        delivery.status = status
        delivery.last_error = error[:ERROR_LIMIT]
        self._session.flush()

    def earlier_pending(self, delivery: WebhookDelivery) -> bool:
        """True when an older event's delivery to the same endpoint is still pending (one
        probe of the endpoint-order index)."""
        query = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.org_id == self._org_id,
                WebhookDelivery.endpoint_id == delivery.endpoint_id,
                WebhookDelivery.status == "pending",
                tuple_(WebhookDelivery.event_created_at, WebhookDelivery.event_id)
                < (delivery.event_created_at, delivery.event_id),
            )
            .limit(1)
        )
        return self._session.scalar(query) is not None

    def next_pending(self, endpoint_id: str) -> WebhookDelivery | None:
        """The pending delivery of the oldest event to the endpoint (ordered endpoints send
        it next), or None."""
        return self._session.scalars(
            self._scoped()
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.event_created_at, WebhookDelivery.event_id)
            .limit(1)
        ).first()

    def get_with_endpoint(self, delivery_id: str) -> tuple[WebhookEndpoint, WebhookDelivery]:
        """The org's delivery and its endpoint, in one query, or :class:`NotFoundError`."""
        found = self._session.execute(
            select(WebhookEndpoint, WebhookDelivery)
            .select_from(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.org_id == self._org_id, WebhookDelivery.id == delivery_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError("webhook delivery", delivery_id)
        return found[0], found[1]

    def get(self, delivery_id: str) -> WebhookDelivery:
        """The org's delivery with this id, or :class:`NotFoundError`."""
        found = self._session.scalars(
            self._scoped().where(WebhookDelivery.id == delivery_id)
        ).one_or_none()
        if found is None:
            raise NotFoundError("webhook delivery", delivery_id)
        return found

    def list(
        self,
        *,
        endpoint_id: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[WebhookDelivery]:
        """Most recently changed first, optionally one endpoint, one status, changed since."""
        require_limit(limit)
        require_aware("since", since)
        query = self._scoped()
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            require_choice("status", status, DELIVERY_STATUSES)
            query = query.where(WebhookDelivery.status == status)
        if since is not None:
            query = query.where(WebhookDelivery.updated_at >= since)
        return self._session.scalars(
            query.order_by(WebhookDelivery.updated_at.desc(), WebhookDelivery.id).limit(limit)
        ).all()

    def attempts(self, delivery_id: str) -> Sequence[WebhookAttempt]:
        """Every attempt of the org's delivery, oldest first."""
        self.get(delivery_id)
        return self._session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.org_id == self._org_id, WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.created_at, WebhookAttempt.number)
        ).all()

    def _find(self, endpoint_id: str, event_id: str) -> WebhookDelivery | None:
        return self._session.scalars(
            self._scoped().where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_id == event_id
            )
        ).one_or_none()

    def _scoped(self) -> Select[WebhookDelivery]:
        return select(WebhookDelivery).where(WebhookDelivery.org_id == self._org_id)


def note_failure(endpoint: WebhookEndpoint, now: datetime) -> datetime:
    """Start (or continue) the endpoint's failure streak; returns when it started."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    return endpoint.failing_since


def note_success(endpoint: WebhookEndpoint) -> None:
    """A delivered attempt ends the failure streak."""
    endpoint.failing_since = None
