"""`switchyard worker` refusals against real Redis and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchyard.cli import _register, app
from switchyard.runtime import Runtime

pytestmark = pytest.mark.integration


def test_unknown_queue_from_the_environment_names_the_variable(
    server_runtime: Runtime, clean_env: Path
) -> None:
    """A typo in SWITCHYARD_WORKERS__QUEUES is reported as that variable, not --queues."""
    _register()
    s = server_runtime.settings
    assert s.redis_url and s.database_url
    env = {
        "SWITCHYARD_REDIS_URL": s.redis_url,
        "SWITCHYARD_DATABASE_URL": s.database_url,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": ",".join(s.security.encryption_keys),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
        "SWITCHYARD_WORKERS__QUEUES": "action,snyc",
    }
    result = CliRunner().invoke(app, ["worker"], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: SWITCHYARD_WORKERS__QUEUES: unknown queue(s) snyc")
