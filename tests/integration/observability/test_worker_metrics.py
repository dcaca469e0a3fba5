"""`switchyard worker --metrics-port`: one /metrics per host, aggregating every process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.observability.processes import sample_sum, start_serving, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]
JOBS = 12
JOB_MS = 500  # long enough that one process cannot hold every job: both must work


def test_worker_host_exposes_the_sum_of_its_processes(
    server_runtime: Runtime, tmp_path: Path
) -> None:
    """Jobs run by two worker processes are all counted on the host's single /metrics."""
    with server_runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("metrics")).id
    metrics_dir = tmp_path / "prom"
    log = tmp_path / "worker.log"
    worker, port = start_serving(
        server_runtime, log,
        lambda port: ["worker", "-p", "2", "-t", "2", "-Q", "action",
                      "--metrics-port", str(port), "--metrics-dir", str(metrics_dir)],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for _ in range(JOBS):
            server_runtime.enqueuer.enqueue(
                {
                    "kind": "action",
                    "org_id": org,
                    "provider": "hubspot",
                    "payload": {"action": "noop", "input": {"duration_ms": JOB_MS}},
                }
            )
        deadline = time.monotonic() + 30
        done = 0.0
        while time.monotonic() < deadline:
            done = sample_sum(url, "switchyard_jobs_finished_total", outcome="succeeded")
            if done >= JOBS:
                break
            time.sleep(0.2)
        tail = log.read_text(errors="replace")[-3000:]
        assert done == JOBS, tail
        assert sample_sum(url, "switchyard_jobs_started_total") == JOBS
        assert sample_sum(url, "switchyard_job_duration_seconds_count", queue="action") == JOBS
        assert sample_sum(url, "switchyard_job_queue_wait_seconds_count", queue="action") == JOBS
        # Each worker process wrote its own files into the shared directory.
        pids = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 2, (sorted(p.name for p in metrics_dir.iterdir()), tail)
    finally:
        stop(worker)
