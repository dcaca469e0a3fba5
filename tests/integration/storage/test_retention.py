"""Retention: expired action runs and sync runs go, in batches; what is still needed stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ActionRun, SyncRun
from storage.repositories.retention import purge_expired
from storage.repositories.routes import ActionRunRepository
from storage.repositories.syncs import SyncRepository
from storage.types import utcnow
from switchyard.app import Runtime
from switchyard.scheduler import Scheduler, default_tasks
from tests.unit.storage import builders

pytestmark = pytest.mark.integration


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
    deleted = purge_expired(
        db_session_factory,
        now=utcnow(),
        action_runs_for=30 * days,
        sync_runs_for=90 * days,
        batch=2,  # several batches
    )
    assert deleted == {"action_runs": 5, "sync_runs": 2}
    with db_session_factory() as session:
        assert session.scalars(select(ActionRun.key)).all() == ["new"]
        left = set(session.scalars(select(SyncRun.id)))
        assert left == {kept_last.id, running.id, recent.id}
    again = purge_expired(
        db_session_factory, now=utcnow(), action_runs_for=30 * days, sync_runs_for=90 * days
    )
    assert again == {"action_runs": 0, "sync_runs": 0}


def test_purge_with_nothing_expired_deletes_nothing(
    db_session_factory: sessionmaker[Session],
) -> None:
    """Fresh rows survive a purge."""
    with db_session_factory.begin() as session:
        org = builders.org(session, "acme").id
        _action_run(session, org, "fresh", timedelta(minutes=5))
    deleted = purge_expired(
        db_session_factory,
        now=utcnow(),
        action_runs_for=timedelta(days=30),
        sync_runs_for=timedelta(days=90),
    )
    assert deleted == {"action_runs": 0, "sync_runs": 0}
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
