"""A real `switchyard worker` SIGKILLed mid-sync: the run resumes at its checkpoint."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from providers.sandbox import Sandbox
from providers.sandbox.asgi import create_app
from switchyard.cli.sandbox import env_lines
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.observability.processes import SWITCHYARD, env_of, free_port
from tests.integration.syncs.helpers import HIGH_LIMITS, connect, last_run, stored_ids, sync_job
from tests.integration.workers.test_worker_processes import stop, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def served_sandbox() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox served over loopback HTTP from this process (so the test can mutate it)."""
    sandbox = Sandbox(seed=3)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(sandbox), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield sandbox, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def crash_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """Real Redis and PostgreSQL, on production defaults (dead workers recovered in ~19 s)."""
    settings = runtime_settings(
        backend="servers",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH_LIMITS,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=3))
    yield rt
    rt.close()


def worker_env(rt: Runtime, sandbox: Sandbox, root: str) -> dict[str, str]:
    env = env_of(rt)
    for line in env_lines(sandbox, root):
        name, _, value = line.partition("=")
        env[name] = value
    env["SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__LIMIT"] = "10000"
    env["SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__PERIOD_SECONDS"] = "1"
    env["SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__BURST"] = "10000"
    env["SWITCHYARD_LOG_FORMAT"] = "json"  # the test follows the job by its records' fields
    return env


def start_sync_worker(env: dict[str, str], log: Path) -> Any:
    import subprocess

    return subprocess.Popen(
        [*SWITCHYARD, "worker", "-p", "1", "-t", "1", "-Q", "sync"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_pages(rt: Runtime, c: Any, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = last_run(rt, c, "contacts")
        if run is not None and run.pages >= at_least:
            return int(run.pages)
        time.sleep(0.05)
    raise AssertionError(f"the run did not reach {at_least} pages in {timeout}s")


def test_sigkilled_sync_resumes_at_its_checkpoint(
    crash_runtime: Runtime, served_sandbox: tuple[Sandbox, str], tmp_path: Path
) -> None:
    """Killed after some pages, the run resumes on another worker, re-fetching at most one
    page, and ends with exactly the provider's record set."""
    sandbox, root = served_sandbox
    data = sandbox.datasets.dataset("hubspot", "contacts", seed=3_000)  # 30 pages of 100
    for external_id in ("5", "2999"):
        data.delete(external_id)
    sandbox.inject("hubspot", slow_seconds=0.15)
    c = connect(crash_runtime, "hubspot", sandbox)
    job_id = crash_runtime.enqueuer.enqueue(sync_job(c, "contacts", "full")).job_id
    env = worker_env(crash_runtime, sandbox, root)
    first = start_sync_worker(env, tmp_path / "first.log")
    try:
        wait_pages(crash_runtime, c, 5)
    finally:
        stop(first, signal.SIGKILL)
    committed = last_run(crash_runtime, c, "contacts").pages
    assert committed < 30
    second = start_sync_worker(env, tmp_path / "second.log")
    try:
        wait_for(tmp_path / "second.log", "succeeded", job_id, timeout=90)
    finally:
        stop(second, signal.SIGTERM)
    run = last_run(crash_runtime, c, "contacts")
    assert (run.status, run.pages, run.resumes, run.added) == ("succeeded", 30, 1, 2_998)
    fetches = sandbox.datasets.fetches
    refetched = sum(fetches.values()) - len(fetches)
    assert refetched <= 1
    assert stored_ids(crash_runtime, c, "contacts") == data.ids()
