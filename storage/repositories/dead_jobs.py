"""The dead-letter queue: failed jobs kept for inspection, replay and purge.

``DeadJobRepository`` sees one org's dead jobs (the API acting for that org);
``AdminDeadJobRepository`` sees every org's and exists so that operator-wide access is a
deliberate, visible choice in the caller's code. Both share one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError, NotFoundError
from storage.models import DeadJob
from storage.repositories.checks import require_aware, require_limit, require_text
from storage.types import utcnow

_TEXT_LIMITS = {"job_id": 64, "queue": 64, "kind": 16, "provider": 64, "error_class": 200}
"""Column widths, checked up front so SQLite and PostgreSQL refuse the same input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedJob:
    """What the dead-letter middleware knows about a job it gives up on."""

    job_id: str
    org_id: str
    queue: str
    kind: str
    provider: str
    envelope: Mapping[str, Any]
    error_class: str
    error_message: str
    traceback_summary: str | None = None
    attempts: int = 0
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadJobFilter:
    """Which dead jobs to list, count or purge; unset fields match everything.

    ``since``/``until`` bound ``dead_at`` (inclusive, exclusive); ``replayed`` selects jobs
    already replayed (True) or never replayed (False); ``ids`` restricts to those dead-job ids.
    """

    ids: tuple[str, ...] | None = None
    org_id: str | None = None
    provider: str | None = None
    kind: str | None = None
    error_class: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    replayed: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        require_aware("since", self.since)
        require_aware("until", self.until)
        found: list[ColumnElement[bool]] = []
        equal = {
            DeadJob.org_id: self.org_id,
            DeadJob.provider: self.provider,
            DeadJob.kind: self.kind,
            DeadJob.error_class: self.error_class,
        }
        found.extend(column == value for column, value in equal.items() if value is not None)
        if self.ids is not None:
            found.append(DeadJob.id.in_(self.ids))
        if self.since is not None:
            found.append(DeadJob.dead_at >= self.since)
        if self.until is not None:
            found.append(DeadJob.dead_at < self.until)
        if self.replayed is not None:
            found.append(
                DeadJob.replayed_at.is_not(None) if self.replayed else DeadJob.replayed_at.is_(None)
            )
        return found


class _DeadJobStore:
    """Dead-job access restricted to ``scope_org_id`` when it is not None."""

    def __init__(self, session: Session, scope_org_id: str | None) -> None:
        self._session = session
        self._scope_org_id = scope_org_id

    def add(self, failed: FailedJob, *, dead_at: datetime | None = None) -> DeadJob:
        """Park a failed job."""
        if self._scope_org_id is not None and failed.org_id != self._scope_org_id:
            raise InvalidFieldError("org_id", "does not match the repository's org")
        for name, max_length in _TEXT_LIMITS.items():
            require_text(name, getattr(failed, name), max_length)
        for name in ("first_attempt_at", "last_attempt_at"):
            require_aware(name, getattr(failed, name))
        require_aware("dead_at", dead_at)
        row = DeadJob(
            job_id=failed.job_id,
            org_id=failed.org_id,
            queue=failed.queue,
            kind=failed.kind,
            provider=failed.provider,
            envelope=dict(failed.envelope),
            error_class=failed.error_class,
            error_message=failed.error_message,
            traceback_summary=failed.traceback_summary,
            attempts=failed.attempts,
            first_attempt_at=failed.first_attempt_at,
            last_attempt_at=failed.last_attempt_at,
            dead_at=dead_at or utcnow(),
        )
        self._session.add(row)
        self._session.flush()
        return row

    def has_job(self, job_id: str) -> bool:
        """True when a job with this id is already parked."""
        found = select(DeadJob.id).where(DeadJob.job_id == job_id, *self._scope()).limit(1)
        return self._session.scalar(found) is not None

    def get(self, dead_job_id: str) -> DeadJob:
        """Return one dead job."""
        row = self._session.scalars(
            select(DeadJob).where(DeadJob.id == dead_job_id, *self._scope())
        ).one_or_none()
        if row is None:
            raise NotFoundError("dead job", dead_job_id)
        return row

    def list(
        self, where: DeadJobFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> Sequence[DeadJob]:
        """Return matching dead jobs, most recently dead first."""
        require_limit(limit)
        if offset < 0:
            raise InvalidFieldError("offset", "must not be negative")
        query = (
            select(DeadJob)
            .where(*self._conditions(where))
            .order_by(DeadJob.dead_at.desc(), DeadJob.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._session.scalars(query).all()

    def count(self, where: DeadJobFilter | None = None) -> int:
        """Return how many dead jobs match."""
        query = select(func.count()).select_from(DeadJob).where(*self._conditions(where))
        return self._session.scalar(query) or 0

    def mark_replayed(self, dead_job_id: str) -> DeadJob:
        """Record that the job was sent back to its queue (it stays listed, marked)."""
        row = self.get(dead_job_id)
        row.replayed_at = utcnow()
        row.replay_count += 1
        self._session.flush()
        return row

    def purge(self, where: DeadJobFilter | None = None) -> int:
        """Delete matching dead jobs; return how many were deleted."""
        result = self._session.execute(
            delete(DeadJob)
            .where(*self._conditions(where))
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _scope(self) -> tuple[ColumnElement[bool], ...]:
        if self._scope_org_id is None:
            return ()
        return (DeadJob.org_id == self._scope_org_id,)

    def _conditions(self, where: DeadJobFilter | None) -> tuple[ColumnElement[bool], ...]:
        return (*self._scope(), *(where or DeadJobFilter()).conditions())


class DeadJobRepository(_DeadJobStore):
    """One org's dead jobs; a filter naming another org matches nothing."""

    def __init__(self, session: Session, org_id: str) -> None:
        super().__init__(session, org_id)
        self._org_id = org_id

    @property
    def org_id(self) -> str:
        return self._org_id


class AdminDeadJobRepository(_DeadJobStore):
    """Every org's dead jobs, for operators (CLI, admin API keys, the metrics exporter)."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, None)
