"""Starting syncs: manual triggers (CLI, API) and schedules (``switchyard scheduler``).

A trigger never queues a second run of a (connection, model): while a run holds a live
lease the trigger is *coalesced* into it (nothing enqueued, the running run's id returned);
while idle, triggers share a deterministic idempotency key — the state's ``generation``,
which the next run's start bumps — so the Enqueuer's atomic ``SET NX`` lets exactly one job
through however many callers race. Schedules work the same way with one key per schedule
*slot* (schedule id and due time), so any number of schedulers enqueue each slot once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import FieldError
from contract.metrics import SYNC_TRIGGERS
from producers.enqueue import Enqueued
from providers.syncs import load_sync_models
from storage.errors import NotFoundError
from storage.models import SyncSchedule
from storage.repositories.connections import ConnectionRepository
from storage.repositories.records import RecordRepository
from storage.repositories.sync_schedules import AdminSyncScheduleRepository, SyncScheduleRepository
from storage.repositories.syncs import SyncRepository, lease_is_live
from storage.types import utcnow
from switchyard.services.errors import InvalidInput, translated
from switchyard.services.sync_views import record_view, run_view, schedule_view, state_view

logger = logging.getLogger("switchyard.syncs")


@dataclass(frozen=True)
class Triggered:
    """What a trigger did: ``enqueued``, ``duplicate`` (already queued) or ``coalesced``."""

    result: str
    job_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class SyncTarget:
    """Which sync: the org, provider, model, mode and connection name."""

    org_id: str
    provider: str
    model: str
    mode: str = "incremental"
    connection: str = "default"


class SyncTrigger:
    """Enqueues sync jobs without ever queuing a run twice."""

    def __init__(
        self, sessions: sessionmaker[Session], enqueue: Callable[[Mapping[str, Any]], Enqueued]
    ) -> None:
        self.sessions = sessions
        self.enqueue = enqueue

    @translated
    def trigger(self, target: SyncTarget, *, slot_key: str | None = None) -> Triggered:
        """Start a sync now (or join the running one); :class:`InvalidInput` names bad fields."""
        check_model(target.provider, target.model)
        with self.sessions.begin() as session:
            connection_id = connection_id_of(session, target)
            state = SyncRepository(session, target.org_id).state(connection_id, target.model)
            if lease_is_live(state, utcnow()):
                SYNC_TRIGGERS.labels(target.provider, "coalesced").inc()
                return Triggered("coalesced", run_id=state.run_id)
            key = slot_key or (
                f"sync:{connection_id}:{target.model}:{target.mode}:g{state.generation}"
            )
        job = {
            "kind": "sync",
            "org_id": target.org_id,
            "provider": target.provider,
            "connection": target.connection,
            "payload": {"model": target.model, "mode": target.mode},
            "idempotency_key": key,
        }
        enqueued = self.enqueue(job)
        result = "duplicate" if enqueued.duplicate else "enqueued"
        SYNC_TRIGGERS.labels(target.provider, result).inc()
        return Triggered(result, job_id=enqueued.job_id)


def check_model(provider: str, model: str) -> None:
    """Refuse a (provider, model) without a sync definition, naming ``payload.model``."""
    try:
        load_sync_models().get(provider, model)
    except LookupError as exc:
        raise InvalidInput([FieldError("payload.model", str(exc))]) from None


def connection_id_of(session: Session, target: SyncTarget) -> str:
    """The id of the target's connection, or InvalidInput naming ``connection``."""
    try:
        row = ConnectionRepository(session, target.org_id).get_by_provider(
            target.provider, target.connection
        )
    except NotFoundError:
        message = f"no connection {target.connection!r} to {target.provider} in this org"
        raise InvalidInput([FieldError("connection", message)]) from None
    return row.id


# -- schedules ------------------------------------------------------------------------------


def check_cron(expression: str) -> str:
    """Return a valid five-field cron expression, or InvalidInput naming ``cron``."""
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise InvalidInput([FieldError("cron", f"{expression!r} is not a 5-field cron")])
    return expression


def next_slot(interval_seconds: int | None, cron: str | None, after: datetime) -> datetime:
    """The first slot strictly after ``after``: interval slots are aligned to the epoch, so
    every scheduler computes the same slot whatever its clock reading within the slot."""
    if interval_seconds is not None:
        seconds = int(after.timestamp()) // interval_seconds * interval_seconds + interval_seconds
        return datetime.fromtimestamp(seconds, UTC)
    assert cron is not None
    nxt: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return nxt.astimezone(UTC)


@translated
def set_schedule(
    sessions: sessionmaker[Session],
    target: SyncTarget,
    *,
    interval_seconds: int | None = None,
    cron: str | None = None,
    enabled: bool = True,
) -> SyncSchedule:
    """Create or replace the schedule of the target's (connection, model)."""
    check_model(target.provider, target.model)
    if cron is not None:
        check_cron(cron)
    with sessions.begin() as session:
        connection_id = connection_id_of(session, target)
        schedule = SyncScheduleRepository(session, target.org_id).put(
            connection_id,
            provider=target.provider,
            model=target.model,
            mode=target.mode,
            interval_seconds=interval_seconds,
            cron=cron,
            enabled=enabled,
            next_due_at=next_slot(interval_seconds, cron, utcnow()),
        )
        session.flush()
        session.expunge(schedule)
        return schedule


def enqueue_due_syncs(
    sessions: sessionmaker[Session], trigger: SyncTrigger, now: datetime, *, batch: int = 500
) -> int:
    """Trigger every schedule due at ``now`` once per slot; returns how many were enqueued.

    Safe with several schedulers: each slot's idempotency key makes a second enqueue a
    duplicate, and the next slot every scheduler computes is the same.
    """
    enqueued = 0
    with sessions.begin() as session:
        for schedule in AdminSyncScheduleRepository(session).due(now, limit=batch):
            slot = int(schedule.next_due_at.timestamp())
            target = _target_of(session, schedule)
            try:
                done = trigger.trigger(target, slot_key=f"schedule:{schedule.id}:{slot}")
            except InvalidInput as exc:
                logger.warning("schedule %s skipped: %s", schedule.id, exc)
                schedule.enabled = False
                continue
            enqueued += done.result == "enqueued"
            schedule.last_enqueued_at = now
            schedule.next_due_at = next_slot(schedule.interval_seconds, schedule.cron, now)
    return enqueued


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordQuery:
    """Which synced records: ``provider`` (with ``connection``) narrows to one connection."""

    model: str | None = None
    provider: str | None = None
    connection: str = "default"
    updated_since: datetime | None = None
    include_deleted: bool = False
    cursor: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    next_cursor: str | None


@translated
def list_runs(
    sessions: sessionmaker[Session],
    org_id: str,
    *,
    model: str | None = None,
    status: str | None = None,
    provider: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The org's latest ``limit`` sync runs, newest first (those of ``provider`` among them)."""
    with sessions() as session:
        runs = SyncRepository(session, org_id).runs(model=model, status=status, limit=limit)
        return [run_view(r) for r in runs if provider is None or r.provider == provider]


def sync_states(sessions: sessionmaker[Session], org_id: str) -> list[dict[str, Any]]:
    """Every (connection, model) the org can sync, with its status and last success."""
    models = load_sync_models()
    with sessions() as session:
        repo = SyncRepository(session, org_id)
        return [
            state_view(connection, model, repo.find_state(connection.id, model))
            for connection in ConnectionRepository(session, org_id).list()
            for model in models.models_of(connection.provider)
        ]


def list_schedules(sessions: sessionmaker[Session], org_id: str) -> list[dict[str, Any]]:
    """The org's sync schedules."""
    with sessions() as session:
        return [schedule_view(s) for s in SyncScheduleRepository(session, org_id).list()]


@translated
def list_records(sessions: sessionmaker[Session], org_id: str, query: RecordQuery) -> RecordPage:
    """A page of the org's synced records in (updated_at, id) order, and the next cursor."""
    with sessions() as session:
        connection_id = None
        if query.provider is not None:
            try:
                row = ConnectionRepository(session, org_id).get_by_provider(
                    query.provider, query.connection
                )
            except NotFoundError as exc:
                raise InvalidInput([FieldError("provider", str(exc))]) from None
            connection_id = row.id
        page = RecordRepository(session, org_id).list(
            model=query.model,
            connection_id=connection_id,
            updated_since=query.updated_since,
            include_deleted=query.include_deleted,
            cursor=query.cursor,
            limit=query.limit,
        )
        return RecordPage([record_view(r) for r in page.records], page.next_cursor)


def _target_of(session: Session, schedule: SyncSchedule) -> SyncTarget:
    connection = ConnectionRepository(session, schedule.org_id).get(schedule.connection_id)
    return SyncTarget(
        schedule.org_id, schedule.provider, schedule.model, schedule.mode, connection.name
    )


__all__ = [
    "RecordPage",
    "RecordQuery",
    "SyncTarget",
    "SyncTrigger",
    "Triggered",
    "check_cron",
    "enqueue_due_syncs",
    "list_records",
    "list_runs",
    "list_schedules",
    "next_slot",
    "set_schedule",
    "sync_states",
]
