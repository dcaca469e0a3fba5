"""Sync state and run history of one org.

The state row of a (connection, model) is the run's lock: the worker reads it ``FOR UPDATE``
before taking or renewing the lease, and writes the page checkpoint in the same transaction
as the page's records. Rows are created on first use, race-free (insert-or-ignore).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import SYNC_MODES, SyncRun, SyncState
from storage.repositories.checks import require_choice, require_limit
from storage.types import utcnow


class SyncRepository:
    """Sync states and runs of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    # -- state -------------------------------------------------------------------------------

    def state(self, connection_id: str, model: str, *, lock: bool = False) -> SyncState:
        """The (connection, model) state, created idle if missing; ``lock`` holds its row."""
        self._ensure_state(connection_id, model)
        query = select(SyncState).where(
            SyncState.org_id == self._org_id,
            SyncState.connection_id == connection_id,
            SyncState.model == model,
        )
        if lock:
            query = query.with_for_update()
        state = self._session.scalars(query.execution_options(populate_existing=True)).one()
        return state

    def states_leased_by(self, job_id: str) -> list[SyncState]:
        """This org's running (connection, model) states whose lease ``job_id`` holds, locked."""
        query = select(SyncState).where(
            SyncState.org_id == self._org_id,
            SyncState.lease_owner == job_id,
            SyncState.run_id.is_not(None),
        )
        return list(self._session.scalars(query.with_for_update()))

    def find_state(self, connection_id: str, model: str) -> SyncState | None:
        """The state if one exists (read-only; never creates)."""
        return self._session.scalars(
            select(SyncState).where(
                SyncState.org_id == self._org_id,
                SyncState.connection_id == connection_id,
                SyncState.model == model,
            )
        ).one_or_none()

    def _ensure_state(self, connection_id: str, model: str) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._session.execute(
            insert(SyncState)
            .values(
                connection_id=connection_id,
                model=model,
                org_id=self._org_id,
                generation=0,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["connection_id", "model"])
        )

    # -- runs --------------------------------------------------------------------------------

    def start_run(
        self,
        connection_id: str,
        *,
        provider: str,
        model: str,
        mode: str,
        job_id: str | None,
    ) -> SyncRun:
        """Record a new running run."""
        require_choice("mode", mode, SYNC_MODES)
        run = SyncRun(
            org_id=self._org_id,
            connection_id=connection_id,
            provider=provider,
            model=model,
            mode=mode,
            status="running",
            job_id=job_id,
            added=0,
            updated=0,
            deleted=0,
            unchanged=0,
            pages=0,
            resumes=0,
            started_at=utcnow(),
        )
        self._session.add(run)
        self._session.flush()
        return run

    def run(self, run_id: str) -> SyncRun:
        """This org's run with ``run_id``, or :class:`NotFoundError`."""
        run = self._session.scalars(
            select(SyncRun).where(SyncRun.org_id == self._org_id, SyncRun.id == run_id)
        ).one_or_none()
        if run is None:
            raise NotFoundError("sync run", run_id)
        return run

    def finish_run(self, run: SyncRun, status: str, *, error: str | None = None) -> SyncRun:
        """Close a run as succeeded or failed, with its duration."""
        require_choice("status", status, ("succeeded", "failed"))
        now = utcnow()
        run.status = status
        run.error = error
        run.finished_at = now
        run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
        self._session.flush()
        return run

    def runs(
        self,
        *,
        connection_id: str | None = None,
        model: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> Sequence[SyncRun]:
        """Newest first, optionally one connection, model or status."""
        require_limit(limit)
        query = select(SyncRun).where(SyncRun.org_id == self._org_id)
        if connection_id is not None:
            query = query.where(SyncRun.connection_id == connection_id)
        if model is not None:
            query = query.where(SyncRun.model == model)
        if status is not None:
            query = query.where(SyncRun.status == status)
        order = (SyncRun.started_at.desc(), SyncRun.id)
        return self._session.scalars(query.order_by(*order).limit(limit)).all()


def lease_is_live(state: SyncState, now: datetime) -> bool:
    """True while a run holds the state's lease and it has not expired."""
    return state.run_id is not None and state.lease_until is not None and state.lease_until > now
