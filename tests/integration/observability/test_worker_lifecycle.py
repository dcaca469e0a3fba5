"""Real `switchyard worker` processes: heartbeats while they run, JSON logs with job fields."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.observability.processes import SWITCHYARD, env_of, stop
from workers.live_workers import alive_workers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def start_json_worker(rt: Runtime, log: Path, processes: int) -> subprocess.Popen[bytes]:
    env = {**env_of(rt), "SWITCHYARD_LOG_FORMAT": "json"}
    return subprocess.Popen(
        [*SWITCHYARD, "worker", "-p", str(processes), "-t", "1", "-Q", "action"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_workers_beat_while_running_and_leave_on_sigterm(
    server_runtime: Runtime, tmp_path: Path
) -> None:
    """Each worker process is alive in Redis while it runs, and gone after a clean stop."""
    redis, ns = server_runtime.redis, server_runtime.settings.workers.namespace
    worker = start_json_worker(server_runtime, tmp_path / "w.log", processes=2)
    try:
        assert wait_until(lambda: alive_workers(redis, ns, 10) == 2), (
            tmp_path / "w.log"
        ).read_text(errors="replace")[-3000:]
    finally:
        stop(worker)
    assert alive_workers(redis, ns, 10) == 0


def test_json_logs_carry_the_job_id_and_correlation_id(
    server_runtime: Runtime, tmp_path: Path
) -> None:
    """With SWITCHYARD_LOG_FORMAT=json every line parses; job lines name their job."""
    with server_runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("jsonlog")).id
    log = tmp_path / "w.log"
    worker = start_json_worker(server_runtime, log, processes=1)
    job_id = server_runtime.enqueuer.enqueue(
        {
            "kind": "action",
            "org_id": org,
            "provider": "hubspot",
            "payload": {"action": "noop"},
            "correlation_id": "req-42",
        }
    ).job_id
    try:
        assert wait_until(lambda: bool(succeeded_records(log, job_id))), log.read_text()[-3000:]
    finally:
        stop(worker)
    succeeded = succeeded_records(log, job_id)
    assert succeeded[0]["level"] == "INFO" and succeeded[0]["correlation_id"] == "req-42"


def succeeded_records(log: Path, job_id: str) -> list[dict[str, object]]:
    """The JSON records carrying this job's id whose event is ``job succeeded``."""
    records = [
        json.loads(line)
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith("{")
    ]
    return [
        r
        for r in records
        if r.get("job_id") == job_id and str(r["message"]).startswith("job succeeded")
    ]
