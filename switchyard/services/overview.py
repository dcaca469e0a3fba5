"""What the console's Overview shows: backlog per queue and org (:mod:`switchyard.services.queues`),
recent throughput, failures and deferrals per org (the job state store's newest jobs, a
bounded read), and dead-job and connection counts in the database.

Per-org figures never go to Prometheus (no org label there by design): they are read here,
on demand, and only for the orgs the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from queueing.job_state import JobStateStore, now_ms
from storage.models import Connection, DeadJob, Organization
from storage.types import utcnow
from switchyard.services.job_views import derived_state
from switchyard.services.queues import QUEUES, Backlog, QueueBacklog

RECENT = timedelta(minutes=15)
"""The window of "recent" dead letters (the failure rate an operator looks at first)."""


@dataclass(frozen=True)
class OrgHealth:
    """One organization at a glance: dead letters (all unreplayed, and recent) and
    connections by status."""

    org_id: str
    org_name: str
    dead: int
    dead_recent: int
    connections: dict[str, int]


ACTIVITY_READS = 2000
"""Job states one Overview reads at most, shared among the orgs it shows (at least
:data:`ACTIVITY_MIN_READS` each): the page stays fast however busy the orgs are."""
ACTIVITY_MIN_READS = 20
DEFERRAL_REASONS = ("rate_limit", "cooldown", "concurrency")
"""Why a waiting job was deferred by the limiter (``not_before`` waits are scheduled, not
deferred)."""


@dataclass(frozen=True)
class QueueTotals:
    """One queue summed over its orgs (admin view)."""

    queue: str
    laned: int
    waiting: int
    running: int
    orgs: int
    oldest_due_age_seconds: float | None


@dataclass(frozen=True)
class OrgActivity:
    """An org's jobs that ended in the recent window, and those deferred right now."""

    org_id: str
    succeeded: int
    dead: int
    cancelled: int
    deferred: dict[str, int]
    complete: bool
    """False when the org had more recent jobs than this page reads (figures are lower bounds)."""

    @property
    def per_minute(self) -> float:
        return (self.succeeded + self.dead) / (RECENT.total_seconds() / 60)

    @property
    def failure_rate(self) -> float | None:
        ended = self.succeeded + self.dead
        return self.dead / ended if ended else None


def queue_totals(backlog: Backlog) -> list[QueueTotals]:
    """Per queue sums of the per-(org, queue) backlog rows (every queue, idle ones too)."""
    by_queue: dict[str, list[QueueBacklog]] = {queue: [] for queue in QUEUES}
    for row in backlog.queues:
        by_queue.setdefault(row.queue, []).append(row)
    return [_totals(queue, rows) for queue, rows in by_queue.items()]


def _totals(queue: str, rows: list[QueueBacklog]) -> QueueTotals:
    ages = [r.oldest_due_age_seconds for r in rows if r.oldest_due_age_seconds is not None]
    return QueueTotals(
        queue=queue,
        laned=sum(r.laned for r in rows),
        waiting=sum(r.waiting for r in rows),
        running=sum(r.running for r in rows),
        orgs=sum(1 for r in rows if r.laned or r.waiting or r.running),
        oldest_due_age_seconds=max(ages) if ages else None,
    )


def recent_activity(store: JobStateStore, org_ids: Sequence[str]) -> dict[str, OrgActivity]:
    """Per org: jobs that succeeded, died or were cancelled in the last :data:`RECENT`, and
    jobs waiting now because the limiter deferred them (by reason), from the org's newest
    jobs (at most :data:`ACTIVITY_READS` states in all)."""
    if not org_ids:
        return {}
    reads = max(ACTIVITY_MIN_READS, ACTIVITY_READS // len(org_ids))
    now = now_ms()
    return {org: _activity(store, org, reads, now) for org in org_ids}


def _activity(store: JobStateStore, org_id: str, reads: int, now: int) -> OrgActivity:
    ids = store.recent_ids(org_id, before_ms=now, count=reads)
    since = now - int(RECENT.total_seconds() * 1000)
    ended = {"succeeded": 0, "dead": 0, "cancelled": 0}
    deferred: dict[str, int] = {}
    for raw in store.get_many(org_id, ids):
        if raw is None or raw.get("org") != org_id:
            continue
        state = derived_state(raw, now)
        if state in ended and int(raw.get("finished_at") or 0) >= since:
            ended[state] += 1
        elif state == "waiting" and raw.get("wait_reason") in DEFERRAL_REASONS:
            deferred[raw["wait_reason"]] = deferred.get(raw["wait_reason"], 0) + 1
    return OrgActivity(org_id, **ended, deferred=deferred, complete=len(ids) < reads)


def dead_by_queue(sessions: sessionmaker[Session], org_id: str | None) -> dict[str, int]:
    """Unreplayed dead letters per queue (of one org, or all)."""
    query = select(DeadJob.queue, func.count()).where(DeadJob.replayed_at.is_(None))
    if org_id is not None:
        query = query.where(DeadJob.org_id == org_id)
    with sessions() as session:
        return {queue: count for queue, count in session.execute(query.group_by(DeadJob.queue))}


def org_health(
    sessions: sessionmaker[Session], org_id: str | None, *, now: datetime | None = None
) -> list[OrgHealth]:
    """Per organization (one, or every org): dead letters and connection statuses."""
    since = (now or utcnow()) - RECENT
    with sessions() as session:
        orgs = _orgs(session, org_id)
        dead = _dead_counts(session, org_id, since)
        links = _connection_counts(session, org_id)
    return [
        OrgHealth(
            org_id=oid,
            org_name=name,
            dead=dead.get(oid, (0, 0))[0],
            dead_recent=dead.get(oid, (0, 0))[1],
            connections=links.get(oid, {}),
        )
        for oid, name in orgs
    ]


def org_choices(sessions: sessionmaker[Session]) -> Sequence[tuple[str, str]]:
    """(id, name) of the organizations an admin may pick, by name (first 200)."""
    with sessions() as session:
        return _orgs(session, None)


def _orgs(session: Session, org_id: str | None) -> Sequence[tuple[str, str]]:
    query = select(Organization.id, Organization.name).order_by(Organization.name).limit(200)
    if org_id is not None:
        query = query.where(Organization.id == org_id)
    return [(oid, name) for oid, name in session.execute(query)]


def _dead_counts(
    session: Session, org_id: str | None, since: datetime
) -> dict[str, tuple[int, int]]:
    recent = func.count().filter(DeadJob.dead_at >= since)
    query = (
        select(DeadJob.org_id, func.count(), recent)
        .where(DeadJob.replayed_at.is_(None))
        .group_by(DeadJob.org_id)
    )
    if org_id is not None:
        query = query.where(DeadJob.org_id == org_id)
    return {oid: (total, fresh) for oid, total, fresh in session.execute(query)}


def _connection_counts(session: Session, org_id: str | None) -> dict[str, dict[str, int]]:
    query = select(Connection.org_id, Connection.status, func.count()).group_by(
        Connection.org_id, Connection.status
    )
    if org_id is not None:
        query = query.where(Connection.org_id == org_id)
    found: dict[str, dict[str, int]] = {}
    for oid, status, count in session.execute(query):
        found.setdefault(oid, {})[status] = count
    return found
