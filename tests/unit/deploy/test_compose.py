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


def switchyard_services() -> list[str]:
    """Services running our image (they carry the ``build: .`` of the shared anchor)."""
    return sorted(name for name, service in services().items() if service.get("build") == ".")


def test_the_deployment_runs_every_role() -> None:
    """Migrations, API, workers, the scheduler and the exporter run from our image."""
    assert set(switchyard_services()) >= {"migrate", "api", "worker", "scheduler", "exporter"}


@pytest.mark.parametrize("name", switchyard_services())
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


def test_long_running_services_have_healthchecks() -> None:
    """Every service but the one-shot migration declares a healthcheck."""
    missing = [n for n, svc in services().items() if n != "migrate" and "healthcheck" not in svc]
    assert missing == []


def test_depends_on_always_names_a_condition() -> None:
    """Start order waits for health or completion, not merely for a container to exist."""
    for name, service in services().items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert spec["condition"] in {"service_healthy", "service_completed_successfully"}, (
                f"{name} -> {dependency}"
            )
            assert dependency in services()


def test_mounted_files_exist_in_the_repository() -> None:
    """Prometheus and Grafana mount our configuration from paths that exist."""
    for service in services().values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_prometheus_scrapes_the_ports_the_services_serve() -> None:
    """The scrape config targets the API, worker, scheduler and exporter ports compose
    configures."""
    config = yaml.safe_load((ROOT / "dashboards/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["switchyard-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["switchyard-exporter"]["static_configs"][0]["targets"] == ["exporter:9200"]
    workers = jobs["switchyard-workers"]["dns_sd_configs"][0]
    assert workers["names"] == ["worker"]
    worker_command = services()["worker"]["command"]
    assert str(workers["port"]) == worker_command[worker_command.index("--metrics-port") + 1]
    exporter_command = services()["exporter"]["command"]
    assert exporter_command[exporter_command.index("--port") + 1] == "9200"
    scheduler_command = services()["scheduler"]["command"]
    port = scheduler_command[scheduler_command.index("--metrics-port") + 1]
    assert jobs["switchyard-scheduler"]["static_configs"][0]["targets"] == [f"scheduler:{port}"]
