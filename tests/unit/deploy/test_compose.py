"""docker-compose.yml: valid against the compose specification, and runs only real commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from switchyard.cli import _register, app

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"


def services() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data["services"]


def test_compose_file_matches_the_compose_schema() -> None:
    """check-jsonschema validates the file against the vendored compose-spec schema."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_redis_keeps_an_append_only_file() -> None:
    """Redis runs with AOF on, on a volume, so queued jobs survive a restart."""
    redis = services()["redis"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])


@pytest.mark.parametrize("name", ["migrate", "api", "worker"])
def test_service_command_is_a_real_cli_command(name: str) -> None:
    """Each service's command is a switchyard command, and every option it passes exists."""
    command: list[str] = services()[name]["command"]
    options = [w for w in command if w.startswith("--")]
    words = command[: command.index(options[0])] if options else command
    _register()
    result = CliRunner().invoke(app, [*words, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    for option in options:
        assert option in result.output, f"{name}: {option} is not an option of {words}"


def test_migrations_gate_the_api_and_workers() -> None:
    """API and workers start only after migrations completed successfully."""
    for name in ("api", "worker"):
        depends = services()[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
