"""SIGTERM with long jobs in flight and short jobs flowing: a clean, lossless exit."""

from __future__ import annotations

import pytest

from queueing.keys import QueueKeys
from tests.chaos.servers import wait_until
from tests.chaos.stack import Stack, full_size

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def unacked(stack: Stack) -> int:
    """Jobs any worker fetched and has not acknowledged (the queues' ack sets)."""
    redis = stack.rt.redis
    return sum(redis.scard(key) for key in redis.keys(QueueKeys("switchyard", "*").acks("*")))


def test_sigterm_finishes_in_flight_jobs_and_hands_back_the_rest(stack: Stack) -> None:
    """In-flight 5 s jobs finish, prefetched ones go back at once, the process exits 0."""
    rounds = 3 if full_size() else 1
    orgs = stack.orgs(3)
    for round_ in range(rounds):
        slow = {stack.enqueue(orgs[0], delay_ms=5_000) for _ in range(4)}
        for index in range(400):
            stack.enqueue(orgs[index % 3], delay_ms=20)
        worker = stack.worker(f"term{round_}", threads=8)
        wait_until(lambda: slow <= stack.stand_in.serving(), 60, "long jobs in flight")  # noqa: B023
        code = stack.terminate(worker)
        hits = stack.stand_in.counts()
        assert code == 0, stack.log_tail(f"term{round_}")
        assert all(hits[m] == 1 for m in slow), "an in-flight job did not finish"
        assert unacked(stack) == 0, "fetched jobs were left in the exiting worker's ack set"
    drain = stack.worker("drain")
    report = stack.settle("sigterm", timeout=180, rounds=rounds)
    report.save()
    assert drain.poll() is None
    assert report.lost == []
