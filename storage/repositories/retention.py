"""Retention: history tables keep their rows for a while, then the scheduler deletes them.

Operator-wide, like ``AdminDeadJobRepository``: retention applies to every org alike, so
these deletes are not scoped by org — deliberately, and only here. Each call deletes at most
``limit`` rows (one short transaction each), oldest first, so a large backlog of expired
rows never holds long locks.

- ``action_runs`` make action calls and route steps idempotent: a replay of an event older
  than the retention runs its actions again.
- ``sync_runs`` are history; a run that is still running, or that a sync state still names
  as its last run, is kept whatever its age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ActionRun, SyncRun, SyncState


def purge_action_runs(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` action runs created before ``before``; how many were deleted."""
    expired = (
        select(ActionRun.id)
        .where(ActionRun.created_at < before)
        .order_by(ActionRun.created_at)
        .limit(limit)
    )
    return _delete_ids(session, ActionRun, list(session.scalars(expired)))


def purge_sync_runs(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` finished sync runs older than ``before`` that no sync state
    names as its current or last run; how many were deleted."""
    named = select(SyncState.last_run_id).where(SyncState.last_run_id.is_not(None))
    expired = (
        select(SyncRun.id)
        .where(
            SyncRun.finished_at < before,
            SyncRun.status != "running",
            SyncRun.id.not_in(named),
        )
        .order_by(SyncRun.finished_at)
        .limit(limit)
    )
    return _delete_ids(session, SyncRun, list(session.scalars(expired)))


def purge_expired(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    action_runs_for: timedelta,
    sync_runs_for: timedelta,
    batch: int = 1_000,
    max_batches: int = 100,
) -> dict[str, int]:
    """Delete what has outlived its retention, ``batch`` rows per transaction, at most
    ``max_batches`` per table per call (the next call goes on); rows deleted, by table."""
    purges: dict[str, tuple[Callable[..., int], datetime]] = {
        "action_runs": (purge_action_runs, now - action_runs_for),
        "sync_runs": (purge_sync_runs, now - sync_runs_for),
    }
    deleted = dict.fromkeys(purges, 0)
    for table, (purge, before) in purges.items():
        for _ in range(max_batches):
            with sessions.begin() as session:
                count = purge(session, before=before, limit=batch)
            deleted[table] += count
            if count < batch:
                break
    return deleted


def _delete_ids(session: Session, model: type[ActionRun] | type[SyncRun], ids: list[str]) -> int:
    """Delete these rows; how many went (a concurrent scheduler may have taken some)."""
    if not ids:
        return 0
    result: Any = session.execute(delete(model).where(model.id.in_(ids)))
    return int(result.rowcount)
