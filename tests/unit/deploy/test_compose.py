"""docker-compose.yml: valid against the compose specification, and runs only real commands."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from storage.crypto import KeyRing
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


def test_only_the_api_is_published_and_on_loopback_by_default() -> None:
    """Nothing but the API has published ports; its default bind address is 127.0.0.1."""
    published = {name: svc["ports"] for name, svc in services().items() if svc.get("ports")}
    assert list(published) == ["api"]
    assert published["api"] == ["${SWITCHYARD_API_BIND:-127.0.0.1}:8000:8000"]


def test_no_credential_is_written_in_the_compose_file() -> None:
    """Passwords and keys come from Docker secrets files, never literals or variables."""
    text = COMPOSE.read_text()
    for literal in ("POSTGRES_PASSWORD:", "GF_SECURITY_ADMIN_PASSWORD:", "ENCRYPTION_KEYS:"):
        assert literal not in text
    assert "switchyard:switchyard@" not in text
    declared = yaml.safe_load(text)["secrets"]
    assert set(declared) == {
        "database_url",
        "encryption_keys",
        "postgres_password",
        "grafana_admin_password",
    }
    for name in ("api", "worker", "scheduler", "exporter", "migrate"):
        environment = services()[name]["environment"]
        assert environment["SWITCHYARD_DATABASE_URL_FILE"] == "/run/secrets/database_url"
        assert environment["SWITCHYARD_SECURITY__ENCRYPTION_KEYS_FILE"] == (
            "/run/secrets/encryption_keys"
        )
        assert set(services()[name]["secrets"]) == {"database_url", "encryption_keys"}


def test_compose_needs_no_dotenv_to_parse() -> None:
    """No variable is required (${X:?...}): compose works before any .env exists."""
    assert ":?" not in COMPOSE.read_text()


def test_images_are_pinned_to_exact_versions() -> None:
    """Every third-party image names a full version, never a floating major tag or latest."""
    for name, service in services().items():
        image = service.get("image", "")
        if service.get("build") == ".":
            continue
        tag = image.rsplit(":", 1)[-1] if ":" in image else "latest"
        assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?", tag), f"{name}: {image} floats"
    assert (ROOT / "Dockerfile").read_text().count("FROM python:3.11.9-slim") == 1


def test_workers_scale_with_deploy_replicas() -> None:
    """deploy.replicas sets the worker count from .env (default 1)."""
    assert services()["worker"]["deploy"]["replicas"] == "${SWITCHYARD_WORKER_REPLICAS:-1}"


def test_the_image_installs_the_lock_file() -> None:
    """The Dockerfile installs requirements.lock, and it pins every runtime dependency."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --no-deps ." in dockerfile
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert any(pin.lower().replace("_", "-") == name for pin in pins), name


def test_bootstrap_creates_every_secret_without_docker(tmp_path: Path) -> None:
    """deploy/bootstrap.sh writes each secret compose mounts; a second run keeps them."""
    (tmp_path / "deploy").mkdir()
    script = tmp_path / "deploy" / "bootstrap.sh"
    script.write_bytes((ROOT / "deploy" / "bootstrap.sh").read_bytes())
    subprocess.run(
        ["sh", str(script)], check=True, capture_output=True, env={"PATH": "/usr/bin:/bin"}
    )
    secrets = tmp_path / "secrets"
    for secret in yaml.safe_load(COMPOSE.read_text())["secrets"].values():
        assert (tmp_path / secret["file"]).read_text().strip(), secret["file"]
    keys = (secrets / "encryption_keys").read_text()
    KeyRing([keys.strip()])
    password = (secrets / "postgres_password").read_text().strip()
    assert f"switchyard:{password}@postgres:5432" in (secrets / "database_url").read_text()
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    subprocess.run(
        ["sh", str(script)], check=True, capture_output=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert (secrets / "encryption_keys").read_text() == keys


def test_the_cluster_profile_runs_three_masters_with_a_replica_each() -> None:
    """`--profile cluster` adds six AOF nodes and a one-shot join waiting for all of them;
    nothing else belongs to the profile, and the default stack is unchanged."""
    cluster = {n: s for n, s in services().items() if "cluster" in s.get("profiles", [])}
    nodes = sorted(n for n in cluster if n.startswith("redis-node-"))
    assert len(nodes) == 6 and set(cluster) == {*nodes, "redis-cluster-init"}
    for name in nodes:
        command = cluster[name]["command"]
        assert command[command.index("--cluster-enabled") + 1] == "yes"
        assert command[command.index("--appendonly") + 1] == "yes"
    init = cluster["redis-cluster-init"]
    assert "--cluster-replicas 1" in init["command"][0]
    assert sorted(init["depends_on"]) == nodes
