"""Retention: expired action runs, sync runs, events (with their deliveries and attempts) and
inbound webhooks go, in batches; what is still needed stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import (
    ActionRun,
    Event,
    InboundWebhook,
    SyncRun,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from storage.repositories.retention import Retention, purge_expired
from storage.repositories.routes import ActionRunRepository
from storage.repositories.syncs import SyncRepository
from storage.types import utcnow
from switchyard.runtime import Runtime
from switchyard.scheduler import Scheduler, default_tasks
from tests.unit.storage import builders

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
KEEP = Retention(
    action_runs=30 * DAY, sync_runs=90 * DAY, events=30 * DAY, inbound_webhooks=30 * DAY
)
NOTHING = {"action_runs": 0, "sync_runs": 0, "events": 0, "inbound_webhooks": 0}


def _action_run(session: Session, org_id: str, key: str, age: timedelta) -> None:
    run = ActionRunRepository(session, org_id).record(key, provider="slack", action="x", output={})
    run.created_at = utcnow() - age


def _sync_run(
    session: Session, org_id: str, conn: str, model: str, age: timedelta, *, finished: bool = True
) -> SyncRun:
    repo = SyncRepository(session, org_id)
    run = repo.start_run(conn, provider="hubspot", model=model, mode="full", job_id=None)
    if finished:
        repo.finish_run(run, "succeeded")
        run.finished_at = utcnow() - age
    run.started_at = utcnow() - age
    return run


def test_purge_deletes_only_what_outlived_its_retention(
    db_session_factory: sessionmaker[Session],
) -> None:
    """Old action runs go; old sync runs go unless running or a model's last run."""
    days = timedelta(days=1)
    with db_session_factory.begin() as session:
        org = builders.org(session, "acme").id
        conn = builders.connection(session, org, "hubspot").id
        for n in range(5):
            _action_run(session, org, f"old-{n}", 40 * days)
        _action_run(session, org, "new", 1 * days)
        kept_last = _sync_run(session, org, conn, "contacts", 100 * days)
        SyncRepository(session, org).state(conn, "contacts").last_run_id = kept_last.id
        _sync_run(session, org, conn, "contacts", 120 * days)  # expired
        _sync_run(session, org, conn, "deals", 95 * days)  # expired
        running = _sync_run(session, org, conn, "deals", 100 * days, finished=False)
        recent = _sync_run(session, org, conn, "deals", 10 * days)
    deleted = purge_expired(db_session_factory, now=utcnow(), keep=KEEP, batch=2)
    assert deleted == {**NOTHING, "action_runs": 5, "sync_runs": 2}
    with db_session_factory() as session:
        assert session.scalars(select(ActionRun.key)).all() == ["new"]
        left = set(session.scalars(select(SyncRun.id)))
        assert left == {kept_last.id, running.id, recent.id}
    assert purge_expired(db_session_factory, now=utcnow(), keep=KEEP) == NOTHING


def test_purge_with_nothing_expired_deletes_nothing(
    db_session_factory: sessionmaker[Session],
) -> None:
    """Fresh rows survive a purge."""
    with db_session_factory.begin() as session:
        org = builders.org(session, "acme").id
        _action_run(session, org, "fresh", timedelta(minutes=5))
    assert purge_expired(db_session_factory, now=utcnow(), keep=KEEP) == NOTHING
    with db_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ActionRun)) == 1


def test_the_scheduler_runs_retention_with_the_configured_days(runtime: Runtime) -> None:
    """One scheduler round applies actions.run_retention_days (30 by default)."""
    days = timedelta(days=1)
    with runtime.sessions.begin() as session:
        org = builders.org(session, "retained").id
        _action_run(session, org, "old", 31 * days)
        _action_run(session, org, "young", 29 * days)
    scheduler = Scheduler(default_tasks(runtime))
    assert "retention" in {task.name for task in scheduler.tasks}
    scheduler.run_once()
    with runtime.sessions() as session:
        keys = session.scalars(select(ActionRun.key).where(ActionRun.org_id == org)).all()
    assert keys == ["young"]


def _event(
    session: Session, org_id: str, age: timedelta, *, deliveries: tuple[str, ...] = ("delivered",)
) -> str:
    """An event fanned out to one endpoint per delivery status, each delivery with an attempt."""
    event = Event(org_id=org_id, type="order.paid", data={}, fanned_out_at=utcnow())
    session.add(event)
    session.flush()
    for status in deliveries:
        endpoint = WebhookEndpoint(org_id=org_id, url="https://x.test/h", encrypted_secret="v1:x")
        session.add(endpoint)
        session.flush()
        delivery = WebhookDelivery(
            org_id=org_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.type,
            event_created_at=event.created_at,
        )
        delivery.status = status
        session.add(delivery)
        session.flush()
        session.add(
            WebhookAttempt(
                org_id=org_id, delivery_id=delivery.id, number=1, outcome="retried", latency_ms=3
            )
        )
    event.created_at = utcnow() - age
    return event.id


def _inbound(session: Session, org_id: str, key: str, age: timedelta, *, processed: bool) -> None:
    row = InboundWebhook(
        org_id=org_id, provider="stripe", provider_event_id=key, topic="invoice.paid", payload={}
    )
    row.processed_at = utcnow() if processed else None
    session.add(row)
    session.flush()
    row.created_at = utcnow() - age


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_old_finished_events_go_with_their_deliveries_and_attempts(
    db_session_factory: sessionmaker[Session],
) -> None:
    """Events past retention go (cascading to deliveries and attempt logs) unless a delivery
    is still pending or the fan-out has not happened; young events stay."""
    with db_session_factory.begin() as session:
        org = builders.org(session, "acme").id
        for _ in range(3):
            _event(session, org, 40 * DAY, deliveries=("delivered", "failed"))
        waiting = _event(session, org, 40 * DAY, deliveries=("delivered", "pending"))
        young = _event(session, org, 5 * DAY)
        unfanned = _event(session, org, 40 * DAY, deliveries=())
        session.get_one(Event, unfanned).fanned_out_at = None
    deleted = purge_expired(db_session_factory, now=utcnow(), keep=KEEP, batch=2)
    assert deleted == {**NOTHING, "events": 3}
    with db_session_factory() as session:
        assert set(session.scalars(select(Event.id))) == {waiting, young, unfanned}
        assert _count(session, WebhookDelivery) == 3  # waiting's two, young's one
        assert _count(session, WebhookAttempt) == 3


def test_processed_inbound_webhooks_past_retention_go(
    db_session_factory: sessionmaker[Session],
) -> None:
    """A processed inbound webhook older than the retention goes; an unprocessed one (its
    job may still be replayed) and a young one stay."""
    with db_session_factory.begin() as session:
        org = builders.org(session, "acme").id
        _inbound(session, org, "evt_old", 40 * DAY, processed=True)
        _inbound(session, org, "evt_stuck", 40 * DAY, processed=False)
        _inbound(session, org, "evt_young", 2 * DAY, processed=True)
    deleted = purge_expired(db_session_factory, now=utcnow(), keep=KEEP)
    assert deleted == {**NOTHING, "inbound_webhooks": 1}
    with db_session_factory() as session:
        left = set(session.scalars(select(InboundWebhook.provider_event_id)))
    assert left == {"evt_stuck", "evt_young"}
