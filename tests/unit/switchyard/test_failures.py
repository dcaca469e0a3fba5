"""Operator mistakes end in one line naming what failed and the fix, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from storage.crypto import generate_key_item
from switchyard.cli import _register, app

HUBSPOT_LINE = (
    '{"org": "acme", "provider": "hubspot", "account": {"portal_id": "62515"}, '
    '"access_token": "at-0123456789abcdef", "refresh_token": "rt-0123456789abcdef", '
    '"expires_at": "2030-01-01T00:00:00Z"}\n'
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sqlite_env(clean_env: Path) -> dict[str, str]:
    """A server-style configuration on an explicit SQLite file (so nothing migrates it)."""
    _register()
    return {
        "SWITCHYARD_DATABASE_URL": f"sqlite:///{clean_env / 'sy.db'}",
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": generate_key_item("k1"),
    }


def run(*args: str, env: dict[str, str], input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, input=input)


def assert_one_line(result: Result, *fragments: str) -> None:
    """Exit non-zero with exactly one line on stderr, no traceback, holding each fragment."""
    assert result.exit_code not in (0, None), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_database_unreachable_is_one_line(sqlite_env: dict[str, str]) -> None:
    """PostgreSQL not listening: one line naming it and the variable to fix."""
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/switchyard"
    result = run("db", "upgrade", env={**sqlite_env, "SWITCHYARD_DATABASE_URL": url})
    assert_one_line(result, "PostgreSQL is unreachable", "SWITCHYARD_DATABASE_URL")


def test_database_unmigrated_is_one_line(sqlite_env: dict[str, str]) -> None:
    """An empty database: one line saying to run db upgrade, from any command."""
    assert_one_line(run("orgs", "list", env=sqlite_env), "switchyard db upgrade", "empty")


def test_redis_down_is_one_line(sqlite_env: dict[str, str]) -> None:
    """enqueue with Redis down: one line naming Redis and SWITCHYARD_REDIS_URL."""
    assert run("db", "upgrade", env=sqlite_env).exit_code == 0
    assert run("orgs", "create", "acme", env=sqlite_env).exit_code == 0
    env = {**sqlite_env, "SWITCHYARD_REDIS_URL": f"redis://:hunter2@127.0.0.1:{closed_port()}"}
    result = run(
        "enqueue",
        "--org",
        "acme",
        "--provider",
        "hubspot",
        "--kind",
        "action",
        "--payload",
        '{"action": "noop"}',
        env=env,
    )
    assert_one_line(result, "Redis is unreachable", "SWITCHYARD_REDIS_URL")
    assert "hunter2" not in result.output


def test_wrong_encryption_key_is_one_line(sqlite_env: dict[str, str]) -> None:
    """Secrets written under another key: says the key ring lacks their key and how to fix."""
    assert run("db", "upgrade", env=sqlite_env).exit_code == 0
    assert run("orgs", "create", "acme", env=sqlite_env).exit_code == 0
    imported = run("connections", "import", "-", env=sqlite_env, input=HUBSPOT_LINE)
    assert imported.exit_code == 0, imported.output
    env = {**sqlite_env, "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": generate_key_item("k1")}
    result = run("connections", "check", "--org", "acme", "hubspot", env=env)
    assert_one_line(
        result,
        "the key ring does not hold the key these secrets were written with",
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS",
    )


def test_bad_settings_are_one_line(sqlite_env: dict[str, str]) -> None:
    """Two bad variables: one line naming both."""
    env = {**sqlite_env, "SWITCHYARD_WORKERS__THREADS": "0", "SWITCHYARD_API__PORT": "70000"}
    assert_one_line(
        run("orgs", "list", env=env), "SWITCHYARD_WORKERS__THREADS", "SWITCHYARD_API__PORT"
    )


def test_debug_shows_the_traceback(sqlite_env: dict[str, str]) -> None:
    """--debug keeps the traceback for whoever needs it, then the same line."""
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/switchyard"
    result = run("--debug", "orgs", "list", env={**sqlite_env, "SWITCHYARD_DATABASE_URL": url})
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("command", ["worker", "scheduler", "exporter", "api"])
def test_services_with_redis_down_exit_in_one_line(
    sqlite_env: dict[str, str], command: str
) -> None:
    """Long-running processes check Redis at start instead of failing on every tick."""
    assert run("db", "upgrade", env=sqlite_env).exit_code == 0
    env = {**sqlite_env, "SWITCHYARD_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    assert_one_line(run(command, env=env), "Redis is unreachable")


def test_worker_with_unmigrated_database_is_one_line(sqlite_env: dict[str, str]) -> None:
    """The worker parent checks before forking, so no child prints its traceback."""
    env = {**sqlite_env, "SWITCHYARD_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    assert_one_line(run("worker", env=env), "switchyard db upgrade")


def test_worker_process_boot_failure_is_one_line(sqlite_env: dict[str, str]) -> None:
    """A worker process that cannot build its runtime exits with one line, not a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(sqlite_env, SWITCHYARD_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    done = subprocess.run(
        [sys.executable, "-c", "import switchyard.worker_boot"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 3
    assert lines == [lines[-1]] and "switchyard db upgrade" in lines[-1], done.stderr
