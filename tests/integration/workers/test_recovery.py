"""Recovery of a dead worker's fetched jobs, and a clean shutdown's hand-back, on both backends."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import pytest
from dramatiq.common import current_millis

from contract.envelope import Kind
from queueing.keys import QueueKeys
from switchyard.runtime import Runtime
from tests.integration.workers.test_admission import consuming
from workers.middleware.heartbeat import WorkerHeartbeat
from workers.recovery import AckRecovery, recovery_bound_ms

QUEUES = [kind.value for kind in Kind]

pytestmark = pytest.mark.also_on_cluster  # real Redis Cluster as a third backend


def recovery_of(runtime: Runtime) -> AckRecovery:
    w = runtime.settings.workers
    return AckRecovery(runtime.redis, w.namespace, QUEUES, w.heartbeat_timeout_ms)


def fetched_and_abandoned(runtime: Runtime, org_id: str, jobs: int) -> tuple[str, list[Any]]:
    """A consumer fetches ``jobs`` jobs and its process 'dies' (never acks, never beats)."""
    with consuming(runtime, prefetch=jobs, jobs_of=org_id, jobs=jobs) as consumer:
        taken = [next(consumer) for _ in range(jobs)]
        consumer.message_cache = []  # a killed process hands nothing back
    return runtime.worker_broker.broker_id, taken


def test_a_dead_workers_fetched_jobs_go_back_once_its_heartbeat_lapses(
    runtime: Runtime, org_id: str
) -> None:
    """A sweep after the recovery bound requeues every unacked job of a silent worker, once."""
    ns = runtime.settings.workers.namespace
    worker, taken = fetched_and_abandoned(runtime, org_id, 3)
    assert runtime.redis.scard(QueueKeys(ns, "action").acks(worker)) == 3
    later = current_millis() + recovery_bound_ms(runtime.settings.workers.heartbeat_timeout_ms)
    assert recovery_of(runtime).sweep(later) == {"action": 3}
    assert runtime.redis.exists(QueueKeys(ns, "action").acks(worker)) == 0
    queued = {raw.decode() for raw in runtime.redis.lrange(QueueKeys(ns, "action").ready, 0, -1)}
    assert queued == {m.options["redis_message_id"] for m in taken}
    assert recovery_of(runtime).sweep(later) == {}  # a second sweep finds nothing to do


def test_a_worker_within_its_heartbeat_timeout_keeps_its_jobs(
    runtime: Runtime, org_id: str
) -> None:
    """Jobs of a worker that beat less than heartbeat_timeout ago stay with it."""
    ns = runtime.settings.workers.namespace
    worker, _ = fetched_and_abandoned(runtime, org_id, 2)
    assert recovery_of(runtime).sweep(current_millis()) == {}
    assert runtime.redis.scard(QueueKeys(ns, "action").acks(worker)) == 2


def test_a_busy_worker_beats_from_its_thread_and_is_not_swept(
    runtime: Runtime, org_id: str
) -> None:
    """The heartbeat thread stamps the broker id though no consumer fetches (long jobs)."""
    broker = runtime.worker_broker
    heartbeat = next(m for m in broker.middleware if isinstance(m, WorkerHeartbeat))
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=20)
    worker.start()
    try:
        beats = QueueKeys(heartbeat.namespace, "action").beats
        stamped = runtime.redis.zscore(beats, broker.broker_id)
        deadline = time.monotonic() + 5
        while stamped is None and time.monotonic() < deadline:
            time.sleep(0.05)
            stamped = runtime.redis.zscore(beats, broker.broker_id)
    finally:
        worker.stop()
    assert stamped is not None and abs(stamped - current_millis()) < 10_000


def test_shutdown_hands_back_fetched_jobs_no_thread_took(runtime: Runtime, org_id: str) -> None:
    """Closing a consumer returns its prefetched, unstarted jobs to the queue at once."""
    ns = runtime.settings.workers.namespace
    with consuming(runtime, prefetch=4, jobs_of=org_id, jobs=4) as consumer:
        started = next(consumer)
        assert started is not None
    worker = runtime.worker_broker.broker_id
    assert runtime.redis.smembers(QueueKeys(ns, "action").acks(worker)) == {
        started.options["redis_message_id"].encode()
    }
    assert runtime.redis.llen(QueueKeys(ns, "action").ready) == 3
