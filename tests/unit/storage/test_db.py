"""SQLite engine setup, UTC timestamps and running migrations from code."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from storage.db import make_engine, make_session_factory
from storage.migrate import current, downgrade, head_revision, upgrade
from storage.models import Connection, DeadJob
from storage.repositories import AdminDeadJobRepository
from tests.unit.storage import builders


def test_make_engine_creates_the_parent_directory_and_enables_wal(tmp_path: Path) -> None:
    """A SQLite URL in a missing directory works, in WAL mode with foreign keys enforced."""
    path = tmp_path / "deep" / "er" / "switchyard.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()
    assert path.exists()


def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    """An in-memory URL needs no directory and still enforces foreign keys."""
    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()


def test_foreign_keys_are_enforced_on_sqlite(sqlite_session: Session) -> None:
    """A connection pointing at a missing org is refused, as on PostgreSQL."""
    sqlite_session.add(Connection(org_id="0" * 32, provider="hubspot"))
    with pytest.raises(IntegrityError):
        sqlite_session.flush()


def test_timestamps_come_back_aware_in_utc(sqlite_session: Session) -> None:
    """A non-UTC aware time is stored as the same instant and read back as UTC."""
    org = builders.org(sqlite_session)
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 1, 2, 10, 0, tzinfo=paris)
    repo = AdminDeadJobRepository(sqlite_session)
    job = repo.add(builders.failed_job(org.id, first_attempt_at=local), dead_at=local)
    sqlite_session.commit()
    sqlite_session.expire_all()
    loaded = sqlite_session.get(DeadJob, job.id)
    assert loaded is not None
    assert loaded.first_attempt_at == local
    assert loaded.first_attempt_at is not None
    assert loaded.first_attempt_at.tzinfo is UTC
    assert loaded.dead_at == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused_at_the_column(sqlite_session: Session) -> None:
    """Writing a naive datetime fails instead of silently guessing its zone."""
    org = builders.org(sqlite_session)
    sqlite_session.add(DeadJob(**_dead_job_fields(org.id), dead_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        sqlite_session.flush()


def test_sqlite_engine_serves_concurrent_writer_threads(sqlite_url: str) -> None:
    """Several threads writing through one engine all commit, none hits 'database is locked'."""
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        org_id = builders.org(session).id
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                with factory.begin() as session:
                    AdminDeadJobRepository(session).add(
                        builders.failed_job(org_id, job_id=f"job-{worker}-{n}")
                    )
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        assert AdminDeadJobRepository(session).count() == 40
    engine.dispose()


def test_upgrade_downgrade_and_current(tmp_path: Path) -> None:
    """current() is None before migrating, the head after; downgrade to base drops tables."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert current(url) is None
    upgrade(url)
    assert current(url) == head_revision() is not None
    engine = make_engine(url)
    assert {"organizations", "credentials", "dead_jobs"} <= set(inspect(engine).get_table_names())
    downgrade(url, "base")
    assert current(url) is None
    assert inspect(engine).get_table_names() == ["alembic_version"]
    upgrade(url)
    with make_session_factory(engine)() as session:
        assert session.scalars(select(DeadJob)).all() == []
    engine.dispose()


def _dead_job_fields(org_id: str) -> dict[str, object]:
    return {
        "job_id": "j",
        "org_id": org_id,
        "queue": "q",
        "kind": "sync",
        "provider": "hubspot",
        "envelope": {},
        "error_class": "E",
        "error_message": "m",
    }
