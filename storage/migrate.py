"""Run the Alembic migrations from code: no alembic.ini, no environment variables.

The database URL is handed to ``env.py`` through the Alembic ``Config`` object, so the
composition root (CLI, docker entrypoint, tests) decides which database is migrated.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_config(url: str, connection: Connection | None = None) -> Config:
    """Alembic config pointing at our migrations and ``url`` (or an open ``connection``).

    Also the entry point for writing a migration:
    ``alembic.command.revision(make_config(url), message=..., autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (creating a SQLite file if needed)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(make_config(url, connection), revision)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` empties it)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(make_config(url, connection), revision)
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision the code ships: what ``upgrade`` reaches."""
    return ScriptDirectory.from_config(make_config("sqlite://")).get_current_head()


def current(url: str) -> str | None:
    """Return the revision the database at ``url`` is at, or None if never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
