"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL (readers do not block the writer), enforced foreign keys (off by default in
SQLite) and a busy timeout, and may be shared by worker threads. PostgreSQL gets
pre-ping so connections dropped by a restart or a proxy are replaced instead of failing a job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(url: str, **engine_options: Any) -> Engine:
    """Create an engine for ``url``; extra keyword arguments go to ``create_engine``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine_options.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **engine_options)

    database = parsed.database
    in_memory = not database or database == ":memory:" or parsed.query.get("mode") == "memory"
    if not in_memory and database is not None:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(engine_options.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
    engine = create_engine(parsed, connect_args=connect_args, **engine_options)
    event.listen(engine, "connect", _configure_sqlite_connection(wal=not in_memory))
    return engine


def _configure_sqlite_connection(*, wal: bool) -> Callable[[sqlite3.Connection, object], None]:
    """Per-connection pragmas: SQLite forgets them on every new connection."""

    def configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return configure


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory whose objects stay readable after commit (no implicit reload)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
