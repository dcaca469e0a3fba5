"""Worker heartbeats: beat, age out, forget; the middleware beats while a worker runs."""

from __future__ import annotations

import time
import uuid

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

from workers.live_workers import FORGET_AFTER_S, alive_workers, beat, forget, heartbeat_key
from workers.middleware.heartbeat import WorkerHeartbeat


def test_beats_count_until_they_age_out(any_redis: Redis) -> None:
    """A member is alive within the timeout after its last beat, and not after."""
    ns = "hb" + uuid.uuid4().hex[:8]
    beat(any_redis, ns, "h:1", now=1000.0)
    assert alive_workers(any_redis, ns, 30, now=1020.0) == 1
    assert alive_workers(any_redis, ns, 30, now=1031.0) == 0


def test_forget_removes_a_member_at_once(any_redis: Redis) -> None:
    """A clean shutdown removes the worker without waiting for the timeout."""
    ns = "hb" + uuid.uuid4().hex[:8]
    beat(any_redis, ns, "h:1", now=1000.0)
    forget(any_redis, ns, "h:1")
    assert alive_workers(any_redis, ns, 30, now=1000.0) == 0


def test_long_dead_members_are_trimmed_by_the_next_beat(any_redis: Redis) -> None:
    """The set stays small: a beat drops members silent for FORGET_AFTER_S."""
    ns = "hb" + uuid.uuid4().hex[:8]
    beat(any_redis, ns, "old:1", now=1000.0)
    beat(any_redis, ns, "new:2", now=1000.0 + FORGET_AFTER_S + 1)
    assert any_redis.zrange(heartbeat_key(ns), 0, -1) == [b"new:2"]


def test_the_middleware_beats_while_the_worker_runs(any_redis: Redis) -> None:
    """After worker boot the process is alive; after shutdown it is gone."""
    ns = "hb" + uuid.uuid4().hex[:8]
    broker = RedisBroker(client=any_redis, namespace=ns, middleware=[])  # type: ignore[no-untyped-call]
    broker.add_middleware(WorkerHeartbeat(any_redis, ns, interval_s=0.05))
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while alive_workers(any_redis, ns, 5) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert alive_workers(any_redis, ns, 5) == 1
    finally:
        worker.stop()
    assert alive_workers(any_redis, ns, 5) == 0
