"""A producer killed around its lane write never leaves an idempotency key without its job."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard.runtime import Runtime, build_runtime
from tests.conftest import new_org, runtime_settings
from tests.integration.observability.processes import env_of
from tests.integration.workers.test_pipeline import drain, outcomes

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime on the shared Redis and PostgreSQL, with production worker defaults."""
    settings = runtime_settings(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request
    )
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def kill_enqueue(rt: Runtime, org: str, key: str, when: str) -> None:
    """Enqueue a keyed job in a child process that SIGKILLs itself ``when`` it writes."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.integration.producers.enqueue_victim", org, key, when],
        env=env_of(rt),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]


@pytest.mark.parametrize("when", ["before", "after"])
def test_retry_after_a_killed_enqueue_runs_the_job_once(
    rt: Runtime, caplog: pytest.LogCaptureFixture, when: str
) -> None:
    """Killed before or after its lane write, a keyed enqueue retried by its caller runs once."""
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")  # job progress lines
    org = new_org(rt)
    kill_enqueue(rt, org, "order-7", when)
    retried = rt.enqueuer.enqueue(
        {
            "kind": "action",
            "org_id": org,
            "provider": "hubspot",
            "payload": {"action": "noop"},
            "idempotency_key": "order-7",
        }
    )
    assert retried.duplicate is (when == "after")
    drain(rt)
    assert outcomes(caplog).get("succeeded") == [retried.job_id]
