"""Redis (AOF everysec) SIGKILLed and restarted mid-drain."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.chaos.servers import wait_until
from tests.chaos.stack import Ledger, Stack, full_size

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
DOWN_S = 8.0


def log_lines(stack: Stack, name: str) -> int:
    return stack.log_tail(name, 10**8).count("\n")


def test_redis_crash_loses_no_job_accepted_before_it(stack: Stack) -> None:
    """Jobs accepted 1 s before the crash all run; workers reconnect by themselves; the API
    answers JSON 503 with Retry-After while Redis is down, and accepts again after."""
    jobs = 5_000 if full_size() else 1_500
    orgs = stack.orgs(3)
    for index in range(jobs):
        stack.enqueue(orgs[index % 3], delay_ms=20)
    api, base = stack.api()
    headers = {"Authorization": f"Bearer {stack.api_key(orgs[0])}"}
    workers = [stack.worker("w1"), stack.worker("w2")]
    wait_until(lambda: sum(stack.stand_in.counts().values()) > jobs // 10, 120, "drain started")
    time.sleep(1.0)  # every job was accepted >= 1 s before the crash
    stack.redis.kill()
    lines_before = {name: log_lines(stack, name) for name in ("w1", "w2")}
    answers = []
    down_until = time.monotonic() + DOWN_S
    while time.monotonic() < down_until:
        reply = httpx.post(
            base + "/v1/jobs", json=Ledger.job(orgs[0], "during-outage"), headers=headers
        )
        answers.append(reply)
        time.sleep(0.5)
    logged = {name: log_lines(stack, name) - lines_before[name] for name in lines_before}
    stack.redis.start()
    after = httpx.post(
        base + "/v1/jobs", json=Ledger.job(orgs[0], stack.enqueue_marker()), headers=headers
    )
    report = stack.settle("redis_sigkill", timeout=240)
    report.extra.update(down_s=DOWN_S, worker_log_lines_while_down=logged)
    report.save()
    assert report.lost == []
    assert all(w.poll() is None for w in workers), "a worker died with Redis"
    assert api.poll() is None
    assert {r.status_code for r in answers} == {503}
    assert all(r.headers.get("retry-after") for r in answers)
    assert all(r.headers["content-type"].startswith("application/json") for r in answers)
    assert after.status_code == 201, after.text
    assert max(logged.values()) <= 10, f"worker logs flooded while Redis was down: {logged}"
