"""PostgreSQL stopped mid-drain, with jobs that must be dead-lettered among the good ones."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.chaos.servers import wait_until
from tests.chaos.stack import Stack, full_size

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def test_postgres_outage_spends_no_attempt_and_dead_letters_after(stack: Stack) -> None:
    """Good jobs all run after the outage (none dead-lettered for it); jobs that must die
    are all in dead_jobs once PostgreSQL is back, after their one real attempt (the outage
    spent none); /readyz answers 503 meanwhile."""
    jobs, down_s = (3_000, 60.0) if full_size() else (1_000, 20.0)
    orgs = stack.orgs(3)
    for index in range(jobs):
        stack.enqueue(orgs[index % 3], dies=index % 10 == 0, delay_ms=20)
    api, base = stack.api()
    stack.start("scheduler", "scheduler")
    stack.worker("w1")
    stack.worker("w2")
    wait_until(lambda: sum(stack.stand_in.counts().values()) > jobs // 10, 120, "drain started")
    stack.pg.stop()
    ready = []
    down_until = time.monotonic() + down_s
    while time.monotonic() < down_until:
        ready.append(httpx.get(base + "/readyz", timeout=5).status_code)
        time.sleep(1.0)
    stack.pg.start()
    report = stack.settle("postgres_stop", timeout=240)
    dead = stack.dead_markers()
    wrongly_dead = [m for m in stack.ledger.must_run if m in dead]
    report.extra.update(down_s=down_s, good_jobs_dead_lettered=len(wrongly_dead))
    report.save()
    assert report.lost == []
    assert wrongly_dead == [], "good jobs were dead-lettered for the outage"
    assert all(dead[m][0] for m in stack.ledger.must_die), "a dead job without its reason"
    spent = sorted({dead[m][1] for m in stack.ledger.must_die})
    assert spent == [1], f"attempts spent on the outage: dead jobs had {spent} attempts"
    assert set(ready) == {503}
    assert api.poll() is None
