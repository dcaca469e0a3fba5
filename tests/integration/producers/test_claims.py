"""Idempotency claims taken in the lane push: one job per key, over fakeredis and real Redis."""

from __future__ import annotations

from typing import Any

import dramatiq
from redis import Redis

from workers.lanes import Claim, Lanes


def message(job_id: str, queue: str = "action") -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue, actor_name="run_action", args=(), kwargs={}, options={}, message_id=job_id
    )


def test_a_claimed_key_pushes_nothing_and_names_its_job(any_redis: Redis, namespace: str) -> None:
    """The second push with a held key lanes nothing and returns the first job's id."""
    lanes = Lanes(any_redis, namespace)
    first = lanes.push_message_once(message("j1"), Claim("k", "j1", 60), org="o", priority=5)
    second = lanes.push_message_once(message("j2"), Claim("k", "j2", 60), org="o", priority=5)
    assert (first, second) == (None, "j1")
    assert lanes.depth("action").laned == 1


def test_a_resent_push_reports_its_own_job(any_redis: Redis, namespace: str) -> None:
    """A push sent twice (a client retry after a lost reply) lanes once and names itself."""
    lanes = Lanes(any_redis, namespace)
    claim = Claim("k", "j1", 60)
    lanes.push_message_once(message("j1"), claim, org="o", priority=5)
    assert lanes.push_message_once(message("j1"), claim, org="o", priority=5) == "j1"
    assert lanes.depth("action").laned == 1


def test_claims_are_scoped_by_org_and_queue(any_redis: Redis, namespace: str) -> None:
    """The same key in another org or another queue is another job."""
    lanes = Lanes(any_redis, namespace)
    for org, queue, job in [("o", "action", "j1"), ("p", "action", "j2"), ("o", "sync", "j3")]:
        claim = Claim("k", job, 60)
        assert lanes.push_message_once(message(job, queue), claim, org=org, priority=5) is None


def test_a_claim_expires_after_its_window(any_redis: Redis, namespace: str) -> None:
    """Once its window ends, the key takes a new job."""
    lanes = Lanes(any_redis, namespace)
    lanes.push_message_once(message("j1"), Claim("k", "j1", 60), org="o", priority=5)
    for key in any_redis.scan_iter(match=f"*{namespace}*:idem:*"):
        any_redis.expire(key, 0)
    assert lanes.push_message_once(message("j2"), Claim("k", "j2", 60), org="o", priority=5) is None
