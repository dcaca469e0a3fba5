"""SIGKILL one of two worker groups every few seconds while jobs of three orgs drain."""

from __future__ import annotations

import time

import pytest

from tests.chaos.servers import wait_until
from tests.chaos.stack import Stack, full_size
from tests.log_records import json_records
from workers.recovery import recovery_bound_ms

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def requeues(stack: Stack) -> list[tuple[int, float]]:
    """(jobs, seconds since the dead worker's last beat) of every requeue the recovery
    sweeps logged, in all worker logs, read from the records' fields."""
    records = [r for name in ("steady", "victim") for r in json_records(stack.log_path(name))]
    return [(r["recovered_jobs"], r["silent_s"]) for r in records if "recovered_jobs" in r]


def test_killed_worker_groups_lose_nothing(stack: Stack) -> None:
    """Every accepted job runs or is dead-lettered though its worker was SIGKILLed mid-run;
    reports how long after each kill its jobs were requeued."""
    jobs, kills, every_s = (6_000, 8, 5.0) if full_size() else (3_000, 3, 6.0)
    orgs = stack.orgs(3)
    for index in range(jobs):
        stack.enqueue(orgs[index % 3], delay_ms=50)
    steady = stack.worker("steady", json_logs=True)
    victim = stack.worker("victim", json_logs=True)
    wait_until(lambda: sum(stack.stand_in.counts().values()) > 0, 60, "first job ran")
    bound_s = recovery_bound_ms(stack.rt.settings.workers.heartbeat_timeout_ms) / 1000
    for _ in range(kills):
        time.sleep(every_s)
        stack.kill(victim)
        victim = stack.worker("victim", json_logs=True)
    report = stack.settle("sigkill_worker_groups", timeout=bound_s + 240)
    report.extra.update(
        kills=kills,
        recovered=sum(n for n, _ in requeues(stack)),
        # from the dead worker's last beat (at or before its kill) to its jobs' requeue
        slowest_recovery_s=max((s for _, s in requeues(stack)), default=None),
        bound_s=bound_s,
    )
    report.save()
    assert steady.poll() is None, stack.log_tail("steady")
    assert report.lost == [], f"{len(report.lost)} lost; {stack.log_tail('victim')}"
