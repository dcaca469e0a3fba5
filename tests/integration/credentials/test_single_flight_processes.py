"""Done-when of the credentials issue: 1,000 concurrent jobs on one credential about to
expire cause exactly one token-endpoint call, with two worker processes on real PostgreSQL
and Redis and the sandbox served over HTTP."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.sandbox import Sandbox
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration import served_sandbox
from tests.integration.credentials.helpers import connect, credential, dead, proxy_job
from tests.integration.served_sandbox import sandbox_env
from tests.integration.workers.test_worker_processes import start_worker, stop
from tests.log_records import json_records

pytestmark = [pytest.mark.integration, pytest.mark.slow]
JOBS = 1_000
UNLIMITED = {
    "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__LIMIT": "1000000",
    "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__BURST": "1000000",
    "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__PERIOD_SECONDS": "1",
}


@pytest.fixture
def served(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[tuple[Runtime, Sandbox, str]]:
    sandbox = Sandbox(seed=1)
    sandbox.set_rate_limit("hubspot", 1_000_000, 10)
    with served_sandbox.served(sandbox) as root:
        settings = runtime_settings(
            backend="servers",
            tmp_path=tmp_path,
            namespace=namespace,
            request=request,
            providers=sandbox.overrides(root),
        )
        rt = build_runtime(settings)
        yield rt, sandbox, root
        rt.close()


def succeeded(logs: list[Path]) -> int:
    """Jobs the workers' JSON records say succeeded."""
    return sum(len(succeeded_in(log)) for log in logs)


def succeeded_in(log: Path) -> list[dict[str, object]]:
    return [r for r in json_records(log) if r.get("job_event") == "succeeded"]


def test_thousand_jobs_on_an_expiring_token_make_one_token_call(
    served: tuple[Runtime, Sandbox, str], tmp_path: Path
) -> None:
    """Two worker processes, 1,000 proxy jobs, a token 60 s from expiry: one refresh."""
    rt, sandbox, root = served
    org, conn = connect(rt, expires_in=60, sandbox=sandbox)
    for _ in range(JOBS):
        rt.enqueuer.enqueue(proxy_job(org))
    env = {**sandbox_env(sandbox, root), **UNLIMITED}
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    started = time.monotonic()
    workers = [start_worker(rt, log, "-t", "8", env=env) for log in logs]
    try:
        deadline = time.monotonic() + 240
        while succeeded(logs) < JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            stop(worker, signal.SIGTERM)
    assert succeeded(logs) == JOBS, [log.read_text()[-2000:] for log in logs]
    assert all(succeeded_in(log) for log in logs), "both processes worked"
    assert sandbox.token_calls("hubspot") == 1
    assert sandbox.requests["hubspot"] == JOBS
    assert dead(rt, org) == [] and credential(rt, org, conn).version == 2
    waited = sum(log.read_text().count("token already refreshed by another worker") for log in logs)
    print(
        f"\n{JOBS} jobs, 2 worker processes x 8 threads: {elapsed:.1f}s, 1 token call, "
        f"{waited} jobs waited on the lock and used the winner's token"
    )
