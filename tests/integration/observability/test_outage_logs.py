"""A worker process whose Redis dies keeps its log to a few lines per 10 s, and picks jobs up
again when Redis returns, without a restart (a private redis-server the test kills)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard.runtime import Runtime, build_runtime
from tests.conftest import new_org
from tests.integration.observability.processes import start, stop
from tests.integration.private_servers import PrivateRedis, private_redis, server_settings
from tests.integration.workers.test_worker_processes import wait_for, wait_for_text

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DOWN_SECONDS = 20
MOST_LINES = 12
"""What the outage may cost, for a 20 s outage: a few lines as it begins, then one line per
10 s for each logger family that reports it (Dramatiq's consumers, the heartbeat). Before the
throttle this worker wrote about 300."""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def rt(
    redis_server: PrivateRedis, pg_url: str, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """A runtime on the private Redis and the shared PostgreSQL, production worker defaults."""
    settings = server_settings(redis_server.url, pg_url, tmp_path, namespace)
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def test_worker_log_stays_bounded_while_redis_is_down(
    rt: Runtime, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    """20 s without Redis cost a one-thread worker at most a dozen lines; then it works again."""
    log = tmp_path / "worker.log"
    json_logs = {"SWITCHYARD_LOG_FORMAT": "json"}
    worker = start(rt, log, "worker", "-p", "1", "-t", "1", extra_env=json_logs)  # every queue
    try:
        wait_for_text(log, "Worker process is ready for action")
        time.sleep(1)
        before = len(log.read_bytes().splitlines())
        redis_server.kill()
        time.sleep(DOWN_SECONDS)
        lines = log.read_text(errors="replace").splitlines()[before:]
        redis_server.start()
        job = rt.enqueuer.enqueue(
            {
                "kind": "action",
                "org_id": new_org(rt),
                "provider": "hubspot",
                "payload": {"action": "noop"},
            }
        )
        wait_for(log, "succeeded", job.job_id, timeout=60)
    finally:
        stop(worker)
    assert any("connection error" in line or "Redis" in line for line in lines), lines
    assert len(lines) <= MOST_LINES, f"{len(lines)} lines:\n" + "\n".join(lines)
