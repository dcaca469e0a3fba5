"""`switchyard worker` as real processes on real Redis and PostgreSQL: kill and drain."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.observability.processes import SWITCHYARD, env_of
from tests.log_records import job_logged, json_records
from tests.referee import Referee, busiest_window

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def start_worker(
    rt: Runtime, log: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [*SWITCHYARD, "worker", "-p", "1", "-t", "2", "-Q", "action", *extra],
        env={**env_of(rt), "SWITCHYARD_LOG_FORMAT": "json", **(env or {})},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we can kill the forked children too
    )


def wait_for_text(log: Path, text: str, timeout: float = 30.0) -> None:
    """Until ``text`` is in the log: for lines with no fields of ours (Dramatiq's own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(
        f"{text!r} not logged within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}"
    )


def wait_for(log: Path, event: str, job_id: str, timeout: float = 30.0) -> None:
    """Until the worker's JSON log holds the job's ``event`` record (by its fields)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job_logged(log, event, job_id):
            return
        time.sleep(0.1)
    raise AssertionError(
        f"job {event} id={job_id} not logged within {timeout}s:\n"
        + log.read_text(errors="replace")[-3000:]
    )


def slow_job(rt: Runtime, org_id: str, duration_ms: int) -> str:
    job: dict[str, Any] = {
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"action": "noop", "input": {"duration_ms": duration_ms}},
    }
    return rt.enqueuer.enqueue(job).job_id


def stop(process: subprocess.Popen[bytes], sig: int) -> int:
    """SIGKILL the whole process group; SIGTERM only the parent, which forwards it (twice
    would make Dramatiq's children exit without their shutdown hooks)."""
    if process.poll() is None:
        if sig == signal.SIGKILL:
            os.killpg(process.pid, sig)
        else:
            os.kill(process.pid, sig)
    return process.wait(timeout=60)


@pytest.fixture
def server_org(server_runtime: Runtime) -> str:
    from storage.repositories.organizations import OrganizationRepository

    with server_runtime.sessions.begin() as session:
        return OrganizationRepository(session).create(unique("kill")).id


def test_sigkilled_workers_jobs_are_redelivered_and_complete(
    server_runtime: Runtime, server_org: str, tmp_path: Path
) -> None:
    """A job in flight when its worker is SIGKILLed is run to success by another worker."""
    job_id = slow_job(server_runtime, server_org, 4_000)
    first = start_worker(server_runtime, tmp_path / "first.log")
    try:
        wait_for(tmp_path / "first.log", "started", job_id)
    finally:
        stop(first, signal.SIGKILL)
    assert not job_logged(tmp_path / "first.log", "succeeded", job_id)
    second = start_worker(server_runtime, tmp_path / "second.log")
    try:
        wait_for(tmp_path / "second.log", "succeeded", job_id, timeout=45)
    finally:
        stop(second, signal.SIGTERM)


def test_sigterm_lets_in_flight_jobs_finish(
    server_runtime: Runtime, server_org: str, tmp_path: Path
) -> None:
    """SIGTERM stops the worker only after its in-flight job has succeeded; exit code 0."""
    job_id = slow_job(server_runtime, server_org, 2_000)
    worker = start_worker(server_runtime, tmp_path / "w.log")
    wait_for(tmp_path / "w.log", "started", job_id)
    code = stop(worker, signal.SIGTERM)
    assert job_logged(tmp_path / "w.log", "succeeded", job_id)
    assert code == 0


def test_worker_refuses_unknown_queue(server_runtime: Runtime, tmp_path: Path) -> None:
    """An unknown queue name is refused at start, naming the option."""
    result = subprocess.run(
        [*SWITCHYARD, "worker", "-Q", "nope"],
        env=env_of(server_runtime),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--queues: unknown queue(s) nope" in result.stderr


def started_at(log: Path) -> list[datetime]:
    """Start times of jobs from a worker's JSON outcome records."""
    records = json_records(log)
    return [datetime.fromisoformat(r["ts"]) for r in records if r.get("job_event") == "started"]


def test_rate_limit_holds_across_two_worker_processes(
    server_runtime: Runtime, server_org: str, tmp_path: Path
) -> None:
    """Two worker processes sharing a 10 per 2 s limit: the provider (the referee, counting
    arrivals) never sees more than 10 in a 2 s window, and both processes do work."""
    referee = Referee(limit=10, period=2.0)
    limit = {
        "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__LIMIT": "10",
        "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__PERIOD_SECONDS": "2",
        "SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL": referee.url,
        "SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS": "127.0.0.1/32",  # the referee is on loopback
    }
    with server_runtime.sessions.begin() as session:
        conn = ConnectionRepository(session, server_org).create(
            "hubspot", account_identifier={"portal_id": "99"}
        )
        CredentialRepository(session, server_org, server_runtime.keyring).store(
            conn.id, auth_mode="oauth2_code", access_token="tok-" + server_org, refresh_token="r"
        )
    job = {
        "kind": "action",
        "org_id": server_org,
        "provider": "hubspot",
        "payload": {"action": "proxy", "input": {"path": "/crm/v3/objects/contacts"}},
    }
    for _ in range(35):
        server_runtime.enqueuer.enqueue(job)
    workers = [start_worker(server_runtime, tmp_path / f"w{i}.log", env=limit) for i in range(2)]
    try:
        deadline = time.monotonic() + 40
        while len(referee.arrivals) < 35 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            stop(worker, signal.SIGTERM)
        referee.close()
    times = referee.accepted_times()
    assert len(times) == 35
    assert started_at(tmp_path / "w0.log") and started_at(tmp_path / "w1.log"), "both should work"
    # The referee reads arrival times in Python: shave its own jitter off the window.
    assert busiest_window(times, 1.95) <= 10
    assert times[-1] - times[0] >= 6.0  # 35 requests at 10 per 2 s


def test_concurrency_lease_of_a_killed_worker_is_recovered(
    server_runtime: Runtime, server_org: str, tmp_path: Path
) -> None:
    """With a concurrency cap of 1, a job killed mid-run does not block the key for ever."""
    cap = {"SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__CONCURRENCY": "1"}
    held = slow_job(server_runtime, server_org, 2_500)
    first = start_worker(server_runtime, tmp_path / "first.log", env=cap)
    try:
        wait_for(tmp_path / "first.log", "started", held)
    finally:
        stop(first, signal.SIGKILL)
    follower = slow_job(server_runtime, server_org, 0)
    second = start_worker(server_runtime, tmp_path / "second.log", env=cap)
    try:
        wait_for(tmp_path / "second.log", "succeeded", follower, timeout=45)
        wait_for(tmp_path / "second.log", "succeeded", held, timeout=45)
    finally:
        stop(second, signal.SIGTERM)
