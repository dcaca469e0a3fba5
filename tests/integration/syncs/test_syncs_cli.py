"""`switchyard syncs ...` against real Redis and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from tests.integration.syncs.helpers import connect

pytestmark = pytest.mark.integration


@pytest.fixture
def env(pg_synced: Runtime) -> dict[str, str]:
    s = pg_synced.settings
    assert s.redis_url and s.database_url
    _register()
    return {
        "SWITCHYARD_REDIS_URL": s.redis_url,
        "SWITCHYARD_DATABASE_URL": s.database_url,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": ",".join(s.security.encryption_keys),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
    }


def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_trigger_twice_prints_enqueued_then_duplicate(
    env: dict[str, str], pg_synced: Runtime
) -> None:
    """`syncs trigger` enqueues once; the second trigger reports the same job as duplicate."""
    c = connect(pg_synced, "hubspot")
    args = ("syncs", "trigger", "--org", c.org_id, "--provider", "hubspot", "--model", "deals")
    code, out = cli(env, *args)
    assert code == 0, out
    first = json.loads(out)
    code, out = cli(env, *args)
    assert json.loads(out)["result"] == "duplicate" and first["result"] == "enqueued"


def test_unknown_model_exits_2_naming_the_option(env: dict[str, str], pg_synced: Runtime) -> None:
    """An unknown model is refused with exit code 2 and the option name."""
    c = connect(pg_synced, "hubspot")
    code, out = cli(
        env, "syncs", "trigger", "--org", c.org_id, "--provider", "hubspot", "--model", "nope"
    )
    assert code == 2 and "--model: no sync model 'nope'" in out


def test_schedule_then_list_schedules(env: dict[str, str], pg_synced: Runtime) -> None:
    """`syncs schedule --every 15m` stores an interval schedule that `syncs schedules` shows."""
    c = connect(pg_synced, "hubspot")
    base = ("--org", c.org_id, "--provider", "hubspot", "--model", "contacts")
    code, out = cli(env, "syncs", "schedule", *base, "--every", "15m")
    assert code == 0, out
    assert json.loads(out)["interval_seconds"] == 900
    code, out = cli(env, "syncs", "schedules", "--org", c.org_id, "--json")
    assert [s["model"] for s in json.loads(out)] == ["contacts"]
    code, out = cli(env, "syncs", "schedule", *base, "--every", "soon")
    assert code == 2 and "--every" in out
    code, out = cli(env, "syncs", "schedule", *base, "--cron", "61 * * * *")
    assert code == 2 and "--cron" in out


def test_list_and_runs(env: dict[str, str], pg_synced: Runtime) -> None:
    """`syncs list` shows the definitions, and per org where each sync stands."""
    code, out = cli(env, "syncs", "list", "--json")
    definitions = json.loads(out)
    assert code == 0 and len(definitions) == 15
    assert {
        "provider": "google_calendar",
        "model": "events",
        "incremental": "sync_token",
    }.items() <= (next(d for d in definitions if d["provider"] == "google_calendar").items())
    c = connect(pg_synced, "hubspot")
    code, out = cli(env, "syncs", "list", "--org", c.org_id, "--json")
    assert [(s["model"], s["status"]) for s in json.loads(out)] == [
        ("contacts", "never"),
        ("deals", "never"),
    ]
    code, out = cli(env, "syncs", "runs", "--org", c.org_id, "--json")
    assert code == 0 and json.loads(out) == []
