"""`switchyard jobs show|list|cancel` and `switchyard queues` against real Redis and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from tests.conftest import new_org
from tests.integration.jobs.conftest import noop


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


def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_show_list_cancel_and_queues(server_runtime: Runtime, env: dict[str, str]) -> None:
    """A queued job shows, lists under its state, appears in the backlog, then cancels once
    (a second cancel exits 1: it has ended)."""
    org = new_org(server_runtime, "cli")
    job_id = server_runtime.enqueuer.enqueue({**noop(), "org_id": org}).job_id
    code, out = cli(env, "jobs", "show", job_id)
    assert code == 0 and json.loads(out)["state"] == "queued"
    code, out = cli(env, "jobs", "list", "--org", org, "--state", "queued")
    assert code == 0 and job_id in out
    code, out = cli(env, "queues", "--org", org)
    assert code == 0 and org in out and "action" in out
    code, out = cli(env, "jobs", "cancel", job_id)
    assert code == 0 and json.loads(out)["state"] == "cancelled"
    code, out = cli(env, "jobs", "cancel", job_id)
    assert code == 1 and "already ended: cancelled" in out


def test_unknown_job_and_bad_state_exit_2(env: dict[str, str]) -> None:
    """An unknown id and a state that is not one exit 2 naming what was wrong."""
    code, out = cli(env, "jobs", "show", "0" * 32)
    assert code == 2 and "unknown job" in out
    code, out = cli(env, "jobs", "list", "--org", "nobody", "--state", "lost")
    assert code == 2 and "--state" in out
