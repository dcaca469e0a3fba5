"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import storage.models  # noqa: F401  (registers every table)
from storage.base import Base
from storage.migrate import current, make_config

pytestmark = pytest.mark.integration


def test_migrated_schema_matches_the_models(db_engine: Engine) -> None:
    """Autogenerate finds nothing to change: no table, column, type, index or key drift."""
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_database_is_at_the_single_head(db_url: str) -> None:
    """The fixture database is at head, and the history has exactly one head."""
    heads = ScriptDirectory.from_config(make_config(db_url)).get_heads()
    assert len(heads) == 1
    assert current(db_url) == heads[0]
