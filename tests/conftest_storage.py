"""Database fixtures for every package's tests: SQLite always, PostgreSQL when reachable.

PostgreSQL gets one fresh database per test session, migrated with ``storage.migrate`` and
dropped at the end; tests on it start from empty tables. If the server is unreachable the
PostgreSQL cases skip, unless ``SWITCHYARD_REQUIRE_SERVICES=1`` makes that a failure.
Override the server with ``SWITCHYARD_TEST_POSTGRES_URL`` (a database to connect to for
CREATE DATABASE).

Fixtures: ``pg_url``, ``pg_engine`` (session-scoped), ``sqlite_url``, ``sqlite_session``,
``db_url`` (parametrized: sqlite, postgresql), ``db_engine``, ``db_session_factory``,
``session``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_server_url() -> str:
    return os.environ.get("SWITCHYARD_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _admin_connect() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(_postgres_server_url()).set(drivername="postgresql")
    return psycopg.connect(
        url.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
    )


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test session."""
    try:
        admin = _admin_connect()
    except psycopg.OperationalError as error:
        where = make_url(_postgres_server_url()).render_as_string(hide_password=True)
        message = f"PostgreSQL unreachable at {where}: {error}"
        if os.environ.get("SWITCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"switchyard_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(_postgres_server_url()).set(database=name).render_as_string(False)
    try:
        upgrade(url)
        yield url
    finally:
        with _admin_connect() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """Engine on ``pg_url``, shared by the session."""
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating each time."""
    path = tmp_path_factory.mktemp("sqlite-template") / "switchyard.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """URL of a migrated SQLite database private to this test."""
    path = tmp_path / "switchyard.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_session(sqlite_url: str) -> Iterator[Session]:
    """Session on a private, migrated SQLite database."""
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as connection:
        tables = connection.scalars(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ).all()
        if tables:
            connection.execute(text(f"TRUNCATE TABLE {', '.join(tables)} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url: str = request.getfixturevalue("pg_url")
    engine: Engine = request.getfixturevalue("pg_engine")
    yield url
    _truncate_all(engine)


@pytest.fixture
def db_engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Engine on ``db_url``."""
    if db_url.startswith("postgresql"):
        yield request.getfixturevalue("pg_engine")
        return
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session_factory(db_engine: Engine) -> sessionmaker[Session]:
    """Session factory on ``db_engine``, for tests that need several sessions."""
    return make_session_factory(db_engine)


@pytest.fixture
def session(db_session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Session on ``db_url``; whatever it leaves uncommitted is rolled back."""
    with db_session_factory() as session:
        yield session
