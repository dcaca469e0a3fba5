"""What the console's Overview shows, read from what exists today: lane counters in Redis
(``workers.lanes``) and dead-job and connection counts in the database.

Small functions on purpose: when :mod:`switchyard.services.queues` lands (job states,
throughput), the Overview points at it instead of these readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Connection, DeadJob, Organization
from storage.types import utcnow
from workers.envelope import Kind
from workers.lanes import LaneDepth, Lanes

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


def queue_backlog(lanes: Lanes) -> dict[str, LaneDepth]:
    """Every queue's lane counters: due, waiting (deferred, backing off, not before), orgs,
    age of the oldest due job."""
    return lanes.depths([kind.value for kind in Kind])


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
