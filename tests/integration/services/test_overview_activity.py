"""The Overview's activity figures read from job states, over fakeredis, a real Redis and a
Redis Cluster."""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis

from queueing.job_state import JobRef, JobStateStore, now_ms
from switchyard.services import overview


def store_with(redis: Redis, namespace: str, states: dict[str, dict[str, Any]]) -> JobStateStore:
    store = JobStateStore(redis, namespace, retention_s=3600)
    pipe = store.redis.pipeline(transaction=False)
    for job_id, fields in states.items():
        ref = JobRef("action", fields["org"], job_id)
        store.add_created(pipe, ref, {"enqueued_at": now_ms() - 1000, **fields})
    pipe.execute()
    return store


def test_recent_activity_counts_endings_failures_and_deferrals(
    any_redis: Redis, namespace: str
) -> None:
    """Ended in the window by outcome, failure rate of the ended, limiter deferrals by why."""
    ms, old = now_ms(), now_ms() - 20 * 60 * 1000
    store = store_with(
        any_redis,
        namespace,
        {
            "a": {"org": "o", "state": "succeeded", "finished_at": ms},
            "b": {"org": "o", "state": "dead", "finished_at": ms},
            "c": {"org": "o", "state": "succeeded", "finished_at": old},
            "d": {
                "org": "o",
                "state": "waiting",
                "wait_reason": "rate_limit",
                "wait_until": ms + 900_000,
            },
            "e": {
                "org": "o",
                "state": "waiting",
                "wait_reason": "not_before",
                "wait_until": ms + 900_000,
            },
            "f": {"org": "other", "state": "dead", "finished_at": ms},
        },
    )
    found = overview.recent_activity(store, ["o"])["o"]
    assert (found.succeeded, found.dead, found.cancelled) == (1, 1, 0)
    assert found.failure_rate == 0.5 and found.deferred == {"rate_limit": 1} and found.complete


def test_recent_activity_reads_a_bounded_number_of_states(
    any_redis: Redis, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its read budget an org's figures are marked incomplete (lower bounds)."""
    monkeypatch.setattr(overview, "ACTIVITY_READS", 3)
    monkeypatch.setattr(overview, "ACTIVITY_MIN_READS", 3)
    ms = now_ms()
    store = store_with(
        any_redis,
        namespace,
        {str(n): {"org": "o", "state": "succeeded", "finished_at": ms} for n in range(5)},
    )
    found = overview.recent_activity(store, ["o"])["o"]
    assert found.succeeded == 3 and not found.complete
