"""Cancelling a laned job, over fakeredis, a real Redis and a Redis Cluster."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from redis import Redis

from workers.lanes import JobCancelled, Lanes


def message(job_id: str) -> dramatiq.Message[Any]:
    data = {"id": job_id, "org_id": "o1"}
    return dramatiq.Message("action", "run_action", (data,), {}, {}, message_id=job_id)


def test_cancel_takes_laned_entry_or_refuses_the_later_push(any_redis: Redis) -> None:
    """A laned entry is taken out (nothing left to admit); once admitted, the job's next push
    raises JobCancelled and leaves nothing behind."""
    lanes = Lanes(any_redis, "tc" + str(id(any_redis)))
    lanes.push_message(message("j1"), org="o1", priority=5, entry_id="e1")
    assert lanes.cancel("action", "e1", "j1", org="o1", remember_ms=60_000) is True
    assert lanes.depth("action").total == 0
    assert lanes.cancel("action", "e2", "j2", org="o1", remember_ms=60_000) is False
    with pytest.raises(JobCancelled):
        lanes.push_message(message("j2"), org="o1", priority=5, delay_ms=1000, job_id="j2")
    lanes.push_message(message("j3"), org="o1", priority=5, job_id="j3")
    assert lanes.depth("action").total == 1
    for key in any_redis.scan_iter(lanes.prefix("action") + "*"):
        any_redis.delete(key)
