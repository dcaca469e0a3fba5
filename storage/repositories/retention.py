"""Retention: history tables keep their rows for a while, then the scheduler deletes them.

Operator-wide, like ``AdminDeadJobRepository``: retention applies to every org alike, so
these deletes are not scoped by org — deliberately, and only here. Each call deletes at most
``limit`` rows (one short transaction each), oldest first, so a large backlog of expired
rows never holds long locks.

- ``action_runs`` make action calls and route steps idempotent: a replay of an event older
  than the retention runs its actions again.
- ``sync_runs`` are history; a run that is still running, or that a sync state still names
  as its last run, is kept whatever its age.
- ``events`` go with their deliveries and attempt logs (foreign-key cascade) once fanned out
  and with no delivery still pending: an event some receiver still waits for is kept.
- ``inbound_webhooks`` remember provider event ids to drop provider retries; a processed one
  goes (the settings keep this longer than the inbound replay window, beyond which a retry
  is refused anyway); one not processed yet is kept, its job may still be replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ActionRun, Event, InboundWebhook, SyncRun, SyncState, WebhookDelivery


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each history table keeps its rows."""

    action_runs: timedelta
    sync_runs: timedelta
    events: timedelta
    inbound_webhooks: timedelta


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


def purge_events(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` fanned-out events created before ``before`` with no delivery
    pending (their deliveries and attempts go with them); how many events were deleted."""
    pending = select(WebhookDelivery.event_id).where(WebhookDelivery.status == "pending")
    expired = (
        select(Event.id)
        .where(Event.created_at < before, Event.fanned_out_at.is_not(None))
        .where(Event.id.not_in(pending))
        .order_by(Event.created_at)
        .limit(limit)
    )
    return _delete_ids(session, Event, list(session.scalars(expired)))


def purge_inbound_webhooks(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` processed inbound webhooks received before ``before``."""
    expired = (
        select(InboundWebhook.id)
        .where(InboundWebhook.created_at < before, InboundWebhook.processed_at.is_not(None))
        .order_by(InboundWebhook.created_at)
        .limit(limit)
    )
    return _delete_ids(session, InboundWebhook, list(session.scalars(expired)))


def purge_expired(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    keep: Retention,
    batch: int = 1_000,
    max_batches: int = 100,
) -> dict[str, int]:
    """Delete what has outlived its retention, ``batch`` rows per transaction, at most
    ``max_batches`` per table per call (the next call goes on); rows deleted, by table."""
    purges: dict[str, tuple[Callable[..., int], datetime]] = {
        "action_runs": (purge_action_runs, now - keep.action_runs),
        "sync_runs": (purge_sync_runs, now - keep.sync_runs),
        "events": (purge_events, now - keep.events),
        "inbound_webhooks": (purge_inbound_webhooks, now - keep.inbound_webhooks),
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


_Purged = type[ActionRun] | type[SyncRun] | type[Event] | type[InboundWebhook]


def _delete_ids(session: Session, model: _Purged, ids: list[str]) -> int:
    """Delete these rows; how many went (a concurrent scheduler may have taken some)."""
    if not ids:
        return 0
    result: Any = session.execute(delete(model).where(model.id.in_(ids)))
    return int(result.rowcount)
