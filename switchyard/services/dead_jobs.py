"""Dead-letter operations: select dead jobs, describe them, replay them as new jobs, purge them.

Plain functions over a session factory and an ``enqueue`` callable, so the CLI and the HTTP
API share one implementation (and one set of error messages) and tests can drive it directly.

A replay is a **new job**: the stored envelope minus its ``id``, ``created_at`` and original
``idempotency_key`` (which would otherwise make the replay a no-op within its window), so it
gets a new id and a fresh attempt count; org, provider, connection, kind, payload, priority
and correlation id are kept. It carries its own idempotency key,
``dlq-replay:<dead job id>:<replay number>``, so two operators replaying the same dead job at
once, or a retry after a crash between enqueue and commit, yield one job, not two. The dead
job stays listed, marked replayed, and every replay is audited (``dlq.replayed``). An
envelope that is no longer valid (org deleted, provider removed, contract changed) is
*refused* with the reason and the others carry on.

Replaying by filter skips dead jobs already replayed, so running the same command twice does
not run the same work twice; naming ids replays them again on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import InvalidJobError
from producers.enqueue import Enqueued
from storage.errors import NotFoundError
from storage.models import DeadJob
from storage.repositories.audit import AdminAuditRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from switchyard.services.dead_job_query import (
    FILTERS,
    MAX_IDS,
    MAX_LIMIT,
    DeadJobQuery,
    InvalidSelectionError,
    Selection,
    UnknownDeadJobsError,
    parse_selection,
    parse_time,
    require_known,
    require_scope,
    scoped_selection,
)

__all__ = [
    "FILTERS",
    "MAX_IDS",
    "MAX_LIMIT",
    "DeadJobPage",
    "DeadJobQuery",
    "InvalidSelectionError",
    "PurgeReport",
    "Refused",
    "ReplayReport",
    "Replayed",
    "Selection",
    "UnknownDeadJobsError",
    "describe",
    "list_dead_jobs",
    "parse_selection",
    "parse_time",
    "purge",
    "replay",
    "replay_envelope",
    "require_scope",
    "scoped_selection",
    "show_dead_job",
]

DROPPED_ON_REPLAY = ("id", "created_at", "idempotency_key")
_PAGE = 500

Enqueue = Callable[[Mapping[str, Any]], Enqueued]


@dataclass(frozen=True)
class DeadJobPage:
    """One page of ``list``: the items and where the next page starts (None at the end)."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.items)
        return following if following < self.total else None


def describe(dead: DeadJob, *, full: bool = False) -> dict[str, Any]:
    """A dead job as JSON-ready data; ``full`` adds the envelope and traceback summary."""
    data: dict[str, Any] = {
        "id": dead.id,
        "job_id": dead.job_id,
        "org_id": dead.org_id,
        "queue": dead.queue,
        "kind": dead.kind,
        "provider": dead.provider,
        "error_class": dead.error_class,
        "error_message": dead.error_message,
        "attempts": dead.attempts,
        "first_attempt_at": _iso(dead.first_attempt_at),
        "last_attempt_at": _iso(dead.last_attempt_at),
        "dead_at": _iso(dead.dead_at),
        "replayed_at": _iso(dead.replayed_at),
        "replay_count": dead.replay_count,
    }
    if full:
        data["envelope"] = dead.envelope
        data["traceback_summary"] = dead.traceback_summary
    return data


def list_dead_jobs(
    sessions: sessionmaker[Session], selection: Selection, *, offset: int = 0
) -> DeadJobPage:
    """A page of matching dead jobs, most recently dead first (``limit`` defaults to 50)."""
    limit = selection.limit or 50
    where = _with_ids(selection)
    with sessions() as session:
        repo = AdminDeadJobRepository(session)
        rows = repo.list(where, limit=limit, offset=offset)
        return DeadJobPage(
            items=[describe(row) for row in rows],
            total=repo.count(where),
            limit=limit,
            offset=offset,
        )


def show_dead_job(
    sessions: sessionmaker[Session], dead_job_id: str, scope_org: str | None = None
) -> dict[str, Any]:
    """One dead job in full, or :class:`UnknownDeadJobsError` (also for another org's than
    ``scope_org``, when given)."""
    with sessions() as session:
        try:
            found = AdminDeadJobRepository(session).get(dead_job_id)
        except NotFoundError:
            raise UnknownDeadJobsError([dead_job_id]) from None
        if scope_org is not None and found.org_id != scope_org:
            raise UnknownDeadJobsError([dead_job_id])
        return describe(found, full=True)


@dataclass(frozen=True)
class Replayed:
    """A dead job sent back as a new job."""

    dead_job_id: str
    job_id: str
    original_job_id: str


@dataclass(frozen=True)
class Refused:
    """A dead job that could not be replayed, and why."""

    dead_job_id: str
    reason: str


@dataclass
class ReplayReport:
    replayed: list[Replayed] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "replayed": [
                {
                    "dead_job_id": r.dead_job_id,
                    "job_id": r.job_id,
                    "original_job_id": r.original_job_id,
                }
                for r in self.replayed
            ],
            "refused": [{"dead_job_id": r.dead_job_id, "reason": r.reason} for r in self.refused],
        }


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"purged": self.purged, "count": len(self.purged)}


def replay_envelope(
    envelope: Mapping[str, Any], *, dead_job_id: str, replay_number: int
) -> dict[str, Any]:
    """The job to enqueue for a replay: the stored envelope as a new job (see module doc)."""
    job = {k: v for k, v in envelope.items() if k not in DROPPED_ON_REPLAY}
    job["idempotency_key"] = f"dlq-replay:{dead_job_id}:{replay_number}"
    return job


def replay(
    sessions: sessionmaker[Session], enqueue: Enqueue, selection: Selection, *, actor: str
) -> ReplayReport:
    """Replay the selected dead jobs one by one; invalid envelopes are refused, not fatal."""
    report = ReplayReport()
    skip_replayed = not selection.ids
    for dead_job_id, _org_id in _select(sessions, selection, skip_replayed=skip_replayed):
        outcome = _replay_one(sessions, enqueue, dead_job_id, actor)
        if isinstance(outcome, Replayed):
            report.replayed.append(outcome)
        else:
            report.refused.append(outcome)
    return report


def purge(
    sessions: sessionmaker[Session],
    selection: Selection,
    *,
    actor: str,
    advance: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Delete the selected dead jobs and audit it (``dlq.purged``, one event per org);
    ``advance(n)`` is told of each page deleted (the CLI's progress bar)."""
    selected = _select(sessions, selection, skip_replayed=False)
    by_org: dict[str, list[str]] = {}
    for dead_job_id, org_id in selected:
        by_org.setdefault(org_id, []).append(dead_job_id)
    report = PurgeReport()
    with sessions.begin() as session:
        repo = AdminDeadJobRepository(session)
        audit = AdminAuditRepository(session)
        for org_id, ids in by_org.items():
            for start in range(0, len(ids), _PAGE):
                page = ids[start : start + _PAGE]
                repo.purge(DeadJobFilter(ids=tuple(page)))
                if advance is not None:
                    advance(len(page))
            audit.record(
                actor,
                "dlq.purged",
                org_id=org_id,
                subject_type="dead_job",
                details={"count": len(ids), "dead_job_ids": ids},
            )
            report.purged.extend(ids)
    return report


def _replay_one(
    sessions: sessionmaker[Session], enqueue: Enqueue, dead_job_id: str, actor: str
) -> Replayed | Refused:
    with sessions.begin() as session:
        repo = AdminDeadJobRepository(session)
        try:
            dead = repo.get(dead_job_id)
        except NotFoundError:
            return Refused(dead_job_id, "not found: purged while the replay ran")
        job = replay_envelope(
            dead.envelope, dead_job_id=dead.id, replay_number=dead.replay_count + 1
        )
        try:
            enqueued = enqueue(job)
        except InvalidJobError as exc:
            reason = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            return Refused(dead.id, f"envelope no longer valid: {reason}")
        repo.mark_replayed(dead.id)
        AdminAuditRepository(session).record(
            actor,
            "dlq.replayed",
            org_id=dead.org_id,
            subject_type="dead_job",
            subject_id=dead.id,
            details={
                "dead_job_id": dead.id,
                "job_id": enqueued.job_id,
                "original_job_id": dead.job_id,
            },
        )
        return Replayed(dead.id, enqueued.job_id, dead.job_id)


def _select(
    sessions: sessionmaker[Session], selection: Selection, *, skip_replayed: bool
) -> list[tuple[str, str]]:
    """(dead job id, org id) of every selected dead job, gathered before anything changes.

    Named ids must all exist (checked again: a purge may have run since the selection was
    parsed), or nothing happens (:class:`UnknownDeadJobsError`). The filter is bounded at
    ``until=now`` so jobs dying while we page (a replay failing again) are not picked up.
    """
    where = _with_ids(selection)
    if where.until is None:
        where = replace(where, until=datetime.now(UTC) + timedelta(microseconds=1))
    if skip_replayed:
        where = replace(where, replayed=False)
    found: dict[str, str] = {}
    with sessions() as session:
        repo = AdminDeadJobRepository(session)
        require_known(session, selection.ids)
        wanted = selection.limit
        offset = 0
        while wanted is None or len(found) < wanted:
            page = repo.list(where, limit=_PAGE, offset=offset)
            for row in page:
                found.setdefault(row.id, row.org_id)
            if len(page) < _PAGE:
                break
            offset += _PAGE
    items = list(found.items())
    return items if selection.limit is None else items[: selection.limit]


def _with_ids(selection: Selection) -> DeadJobFilter:
    return replace(selection.where, ids=selection.ids) if selection.ids else selection.where


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
