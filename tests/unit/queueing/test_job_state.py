"""The job state store, its batched writer, result summaries and the cancel script."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import fakeredis
import pytest
from redis import Redis

from queueing.job_state import JobRef, JobStateStore, StateWriter, small_result
from switchyard.services.job_views import derived_state
from workers.lanes import Lanes


def store(redis: Redis | None = None, namespace: str = "t") -> JobStateStore:
    return JobStateStore(redis or fakeredis.FakeRedis(), namespace, retention_s=3600)


def message(job_id: str = "j1") -> dramatiq.Message[Any]:
    data = {"id": job_id, "org_id": "o1"}
    return dramatiq.Message("action", "run_action", (data,), {}, {}, message_id=job_id)


def test_result_summary_keeps_ids_and_outcomes_only() -> None:
    """Only id/outcome scalars survive: no tokens, emails, nested data or long text."""
    summary = small_result(
        {
            "id": "c-1",
            "contact_id": 7,
            "ok": True,
            "access_token": "secret",
            "email": "a@b",
            "data": {"id": "x"},
            "status": "s" * 500,
        }
    )
    assert summary is not None
    kept = json.loads(summary)
    assert kept == {"id": "c-1", "contact_id": 7, "ok": True, "status": "s" * 200}
    assert small_result(["not", "a", "mapping"]) is None


def test_writer_batches_in_order_and_keeps_writes_redis_refused() -> None:
    """Writes for one job land in order; a flush Redis refused is sent by the next one."""
    server = fakeredis.FakeServer()
    states = store(fakeredis.FakeRedis(server=server))
    writer = StateWriter(states, interval_s=3600)
    ref = JobRef("action", "o1", "j1")
    writer.put(ref, {"state": "running"})
    writer.put(ref, {"state": "succeeded", "attempts": 1})
    server.connected = False
    writer.flush()
    server.connected = True
    assert states.get("j1") is None
    writer.close()
    assert states.get("j1") == {"state": "succeeded", "attempts": "1", "queue": "action"}
    assert 0 < states.redis.ttl(states.keys.job(ref)) <= 3600


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"state": "waiting", "wait_until": "2000"}, "queued"),
        ({"state": "waiting", "wait_until": "9000"}, "waiting"),
        ({"state": "queued", "cancel": "1"}, "running"),
        ({"state": "succeeded", "cancel": "1"}, "succeeded"),
    ],
)
def test_derived_states(raw: dict[str, str], expected: str) -> None:
    """A due waiting job reads queued; an admitted job whose cancel was asked, running."""
    assert derived_state(raw, now_ms=5000) == expected


def test_push_survives_a_script_cache_flush() -> None:
    """A Redis that lost its scripts (restart) gets the push script again: the job is laned
    once and its state written by it."""
    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    lanes, states = Lanes(redis, "tf"), store(redis, "tf")

    def push(job_id: str) -> None:
        state = states.initial(job_id, "action", "slack", ("action", "noop"), False)
        assert (
            lanes.push_message_once(message(job_id), None, org="o1", priority=5, state=state)
            is None
        )

    push("j1")
    redis.script_flush()
    push("j2")
    assert lanes.depth("action").laned == 2
    found = states.get("j2")
    assert found is not None and found["state"] == "queued" and found["action"] == "noop"
