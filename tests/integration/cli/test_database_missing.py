"""`switchyard db upgrade` against a PostgreSQL server that lacks the configured database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from switchyard.cli import _register, app

pytestmark = pytest.mark.integration


def test_missing_database_is_one_line_saying_to_create_it(pg_url: str, clean_env: Path) -> None:
    """A database that does not exist: one line naming it and how to create it."""
    _register()
    name = f"switchyard_absent_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"SWITCHYARD_DATABASE_URL": url})
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert f'database "{name}" does not exist' in lines[0]
    assert f"createdb {name}" in lines[0] and "switchyard db upgrade" in lines[0]
