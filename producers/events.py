"""Publish events: store the event, then fan it out into jobs (webhook deliveries, route
actions) through the ordinary enqueue path.

Fan-out targets are plug-ins (:data:`producers.fanouts.FANOUTS`): each looks at a stored event
and answers the jobs it wants, each with a key that is stable for that event and target.
The publisher turns the key into the job's idempotency key, so running a fan-out twice —
a retried request, or :meth:`EventPublisher.refan_pending` after a publisher died between
storing the event and enqueueing its jobs — never enqueues a job twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import FieldError, InvalidJobError
from contract.metrics import EVENT_FANOUT_JOBS, EVENTS_PUBLISHED
from producers.enqueue import Enqueuer
from producers.orgs import require_org
from storage.errors import InvalidFieldError
from storage.models import Event
from storage.repositories import AdminEventRepository, EventRepository
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FanoutJob:
    """One job a fan-out target wants for an event; ``key`` is stable per (event, target)."""

    key: str
    job: Mapping[str, Any]


class Fanout(Protocol):
    """A fan-out target: reads what it needs in ``session`` and answers the jobs to enqueue."""

    def __call__(self, session: Session, event: Event) -> Sequence[FanoutJob]: ...


@dataclass(frozen=True)
class Published:
    """What a publisher answers: the event id, whether it repeated a key, jobs enqueued."""

    event_id: str
    duplicate: bool
    jobs: int = 0


class InvalidEventError(ValueError):
    """An event was refused; ``errors`` names every offending field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("invalid event: " + "; ".join(f"{e.field}: {e.message}" for e in errors))


@dataclass
class EventPublisher:
    """Stores and fans out events. Thread-safe; one per process."""

    sessions: sessionmaker[Session]
    enqueuer: Enqueuer
    fanouts: Callable[[], Sequence[Fanout]]
    max_data_bytes: int

    def publish(
        self,
        org_id: str,
        type: str,
        data: Mapping[str, Any],
        *,
        source: str = "api",
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> Published:
        """Store and fan out one event; a repeated ``idempotency_key`` returns the first."""
        org_id = self._check(org_id, data)
        with self.sessions.begin() as session:
            try:
                event, created = EventRepository(session, org_id).record(
                    type,
                    data,
                    source=source,
                    idempotency_key=idempotency_key,
                    correlation_id=correlation_id,
                )
            except InvalidFieldError as exc:
                raise InvalidEventError([FieldError(exc.field, exc.problem)]) from None
            event_id, done = event.id, event.fanned_out_at is not None
        EVENTS_PUBLISHED.labels(source, "accepted" if created else "duplicate").inc()
        jobs = 0 if done else self.fan_out(org_id, event_id)
        return Published(event_id=event_id, duplicate=not created, jobs=jobs)

    def fan_out(self, org_id: str, event_id: str) -> int:
        """Enqueue every target's jobs for the event, then mark it done; returns jobs sent."""
        with self.sessions() as session:
            repo = EventRepository(session, org_id)
            event = repo.get(event_id)
            wanted = [job for fanout in self.fanouts() for job in fanout(session, event)]
            sent = sum(self._enqueue(event, job) for job in wanted)
            repo.mark_fanned_out(event_id)
            session.commit()
        return sent

    def refan_pending(self, *, older_than: timedelta = timedelta(minutes=1)) -> int:
        """Finish fan-outs a dead publisher left behind; returns events completed."""
        with self.sessions() as session:
            pending = [
                (e.org_id, e.id)
                for e in AdminEventRepository(session).pending_fanout(
                    created_before=utcnow() - older_than
                )
            ]
        for org_id, event_id in pending:
            self.fan_out(org_id, event_id)
        return len(pending)

    def _check(self, org: str, data: Mapping[str, Any]) -> str:
        """The id of ``org`` (an id or unique name), once the event is found publishable."""
        try:
            org_id = require_org(self.enqueuer.orgs, org).id
        except InvalidJobError as exc:
            raise InvalidEventError(exc.errors) from None
        if not isinstance(data, Mapping):
            raise InvalidEventError([FieldError("data", "must be a JSON object")])
        size = len(json.dumps(data, separators=(",", ":"), default=str).encode())
        if size > self.max_data_bytes:
            message = f"{size} bytes exceeds the limit of {self.max_data_bytes}"
            raise InvalidEventError([FieldError("data", message)])
        return org_id

    def _enqueue(self, event: Event, wanted: FanoutJob) -> int:
        job = dict(wanted.job)
        job.update(
            org_id=event.org_id,
            idempotency_key=f"event:{event.id}:{wanted.key}",
            correlation_id=event.correlation_id or event.id,
        )
        kind = str(job.get("kind"))
        try:
            result = self.enqueuer.enqueue(job)
        except InvalidJobError as exc:
            # A target answered a job the contract refuses: a bug in that target. Say so
            # loudly and go on, so one bad target does not hold back the others.
            EVENT_FANOUT_JOBS.labels(kind, "refused").inc()
            log.error("fan-out of event %s refused a job: %s", event.id, exc)
            return 0
        EVENT_FANOUT_JOBS.labels(kind, "duplicate" if result.duplicate else "accepted").inc()
        return 0 if result.duplicate else 1
