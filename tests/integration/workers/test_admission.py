"""Admission at fetch: consumers admit from the lanes, fairly, as much as they have room for;
idle consumers look again at the configured pace."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

import dramatiq
import pytest

from queueing.keys import QueueKeys
from switchyard.runtime import Runtime
from tests.conftest import new_org

pytestmark = pytest.mark.also_on_cluster  # real Redis Cluster as a third backend


def test_idle_consumers_poll_at_the_configured_pace(runtime: Runtime) -> None:
    """Consumers of a booted worker back off at most idle_poll_ms, not Dramatiq's 1 s."""
    worker = dramatiq.Worker(runtime.worker_broker, worker_timeout=1_000, worker_threads=1)
    worker.start()
    try:
        timeouts = {consumer.worker_timeout for consumer in worker.consumers.values()}
    finally:
        worker.stop()
    assert timeouts == {runtime.settings.workers.idle_poll_ms}
    assert runtime.settings.workers.idle_poll_ms < 1_000


@contextmanager
def consuming(runtime: Runtime, prefetch: int, jobs_of: str | None = None, jobs: int = 0) -> Any:
    """A consumer of the action queue (closed afterwards), after enqueuing ``jobs`` noop jobs
    of org ``jobs_of``."""
    for _ in range(jobs):
        runtime.enqueuer.enqueue(_job(str(jobs_of)))
    consumer = runtime.worker_broker.consume("action", prefetch=prefetch, timeout=10)
    try:
        yield consumer
    finally:
        consumer.close()


def _job(org_id: str) -> dict[str, Any]:
    return {
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"action": "noop"},
    }


def test_a_fetch_admits_as_many_jobs_as_the_consumer_has_room_for(
    runtime: Runtime, org_id: str
) -> None:
    """With no pump, a consumer's fetch moves exactly its prefetch from the lanes and takes them."""
    with consuming(runtime, prefetch=4, jobs_of=org_id, jobs=10) as consumer:
        first = next(consumer)
        assert first is not None
        assert runtime.lanes.depth("action").laned == 6  # 4 admitted, no more
        ns = runtime.settings.workers.namespace
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 4  # fetched, not yet acked
        assert (
            runtime.redis.llen(QueueKeys(ns, "action").ready) == 0
        )  # the queue holds no more than a fetch
        for _ in range(3):
            assert next(consumer) is not None


def test_fetch_admission_takes_turns_across_orgs(runtime: Runtime) -> None:
    """A fetch after one org's big backlog still brings the small org's job in its turn."""
    big, small = new_org(runtime, "big"), new_org(runtime, "small")
    for _ in range(50):
        runtime.enqueuer.enqueue(_job(big))
    small_job = runtime.enqueuer.enqueue(_job(small)).job_id
    with consuming(runtime, prefetch=2) as consumer:
        fetched = [next(consumer), next(consumer)]
    orgs = [m.args[0]["org_id"] for m in fetched if m is not None]
    assert orgs == [big, small]
    assert fetched[1] is not None and fetched[1].args[0]["id"] == small_job


def test_an_empty_lane_fetch_returns_nothing(runtime: Runtime) -> None:
    """A consumer with nothing laned gets no message (and Dramatiq backs it off)."""
    with consuming(runtime, prefetch=4) as consumer:
        assert next(consumer) is None


def test_acknowledgements_ride_on_the_next_fetch(runtime: Runtime, org_id: str) -> None:
    """An ack costs no round trip of its own: it is sent with the next fetch (or a flush)."""
    ns = runtime.settings.workers.namespace
    with consuming(runtime, prefetch=1, jobs_of=org_id, jobs=3) as consumer:
        first = next(consumer)
        assert first is not None
        consumer.ack(first)
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 1  # kept, not yet sent
        second = next(consumer)  # this fetch acknowledges the first
        assert second is not None and second.message_id != first.message_id
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 1  # only the second remains
        consumer.ack(second)
        runtime.worker_broker.flush_acks()
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 0
        acks = runtime.redis.keys(QueueKeys(ns, "action").acks("*"))
        assert all(runtime.redis.scard(key) == 0 for key in acks)


def test_a_full_consumer_is_woken_by_an_ack_not_by_a_backoff(runtime: Runtime, org_id: str) -> None:
    """With every prefetch slot taken, the next fetch waits for a finished job, then fetches."""
    with consuming(runtime, prefetch=4, jobs_of=org_id, jobs=10) as consumer:
        consumer.timeout = 5_000  # a wake-up by timeout would come far too late and give None
        taken = [next(consumer) for _ in range(4)]
        assert all(message is not None for message in taken)
        threading.Timer(0.1, consumer.ack, args=(taken[0],)).start()
        assert next(consumer) is not None  # room for one: woken by the ack


def test_a_full_consumer_gives_the_worker_loop_a_turn_after_its_timeout(
    runtime: Runtime, org_id: str
) -> None:
    """No job finishing within the timeout: the fetch returns nothing instead of blocking."""
    with consuming(runtime, prefetch=2, jobs_of=org_id, jobs=5) as consumer:
        consumer.timeout = 50
        assert next(consumer) is not None and next(consumer) is not None
        assert next(consumer) is None
        assert runtime.lanes.depth("action").laned == 3  # nothing more was taken


def test_acks_of_short_jobs_are_sent_while_long_ones_hold_the_slots(
    runtime: Runtime, org_id: str
) -> None:
    """A consumer waiting for room sends the acks it holds when its wait times out."""
    ns = runtime.settings.workers.namespace
    with consuming(runtime, prefetch=8, jobs_of=org_id, jobs=10) as consumer:
        consumer.timeout = 50
        taken = [next(consumer) for _ in range(8)]
        consumer.ack(taken[0])  # one short job done; seven still hold their slots
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 8  # its ack is only kept
        assert next(consumer) is None  # not room enough to fetch: the wait times out
        assert runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 7  # ... and the ack was sent
