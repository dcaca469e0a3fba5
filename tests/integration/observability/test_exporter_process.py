"""`switchyard exporter` as a real process on real Redis and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from storage.repositories.organizations import OrganizationRepository
from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.observability.processes import (
    free_port,
    sample_sum,
    start_serving,
    stop,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_exporter_serves_queue_and_lane_gauges(server_runtime: Runtime, tmp_path: Path) -> None:
    """Jobs enqueued (into lanes) are visible on the exporter's /metrics at the next scrape."""
    with server_runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("exporter")).id
    for _ in range(3):
        server_runtime.enqueuer.enqueue(
            {"kind": "sync", "org_id": org, "provider": "hubspot",
             "payload": {"model": "contacts", "mode": "full"}}
        )  # fmt: skip
    log = tmp_path / "exporter.log"
    process, port = start_serving(
        server_runtime, log, lambda port: ["exporter", "--port", str(port)]
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        due = sample_sum(url, "switchyard_lane_depth", queue="sync") + sample_sum(
            url, "switchyard_queue_depth", queue="sync"
        )
        assert due == 3
        probes = probe_results(url)
        assert probes and set(probes.values()) == {1.0}, probes
    finally:
        stop(process)


def probe_results(url: str) -> dict[str, float]:
    families = text_string_to_metric_families(httpx.get(url, timeout=5).text)
    return {
        sample.labels["probe"]: sample.value
        for family in families
        for sample in family.samples
        if sample.name == "switchyard_exporter_probe_success"
    }


def test_exporter_refuses_to_run_without_redis(clean_env: Path) -> None:
    """Without SWITCHYARD_REDIS_URL the exporter exits 2, naming the variable."""
    _register()
    result = CliRunner().invoke(app, ["exporter", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "SWITCHYARD_REDIS_URL" in result.output
