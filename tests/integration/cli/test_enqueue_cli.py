"""`switchyard enqueue` against real Redis and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from storage.repositories.organizations import OrganizationRepository
from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from tests.conftest import unique

pytestmark = pytest.mark.integration


@pytest.fixture
def org_id(server_runtime: Runtime) -> str:
    with server_runtime.sessions.begin() as session:
        return OrganizationRepository(session).create(unique("cli")).id


@pytest.fixture
def env(server_runtime: Runtime) -> dict[str, str]:
    s = server_runtime.settings
    assert s.redis_url and s.database_url
    _register()
    return {
        "SWITCHYARD_REDIS_URL": s.redis_url,
        "SWITCHYARD_DATABASE_URL": s.database_url,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": ",".join(s.security.encryption_keys),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
    }


def test_enqueue_prints_the_job_id_and_dedupes(env: dict[str, str], org_id: str) -> None:
    """enqueue prints the new id; the same idempotency key prints the same id again."""
    args = [
        "enqueue",
        "--org",
        org_id,
        "--provider",
        "hubspot",
        "--kind",
        "action",
        "--payload",
        '{"action": "noop"}',
        "--idempotency-key",
        "k1",
    ]
    first = CliRunner().invoke(app, args, env=env)
    second = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(second.stdout) == {"id": json.loads(first.stdout)["id"], "duplicate": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--provider", "myspace", "--kind", "action", "--payload", '{"action":"noop"}'],
            "provider: unknown provider",
        ),
        (["--provider", "hubspot", "--kind", "sync", "--payload", "{}"], "payload.model"),
        (
            ["--provider", "hubspot", "--kind", "action", "--payload", "{nope"],
            "--payload: not valid JSON",
        ),
    ],
)
def test_enqueue_refusals_name_the_field(
    env: dict[str, str], org_id: str, args: list[str], message: str
) -> None:
    """Bad input exits 2 with the offending field in the message."""
    result = CliRunner().invoke(app, ["enqueue", "--org", org_id, *args], env=env)
    assert result.exit_code == 2
    assert message in result.stderr
