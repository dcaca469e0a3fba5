"""A live worker whose fetch ran on Redis but whose reply was lost gets those jobs back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import fakeredis
import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from queueing.keys import QueueKeys
from tests.lane_messages import job_message
from workers.lane_broker import LaneFedBroker
from workers.lanes import FetchingConsumer, Lanes

ORG = "org-1"


@pytest.fixture
def broker() -> Iterator[LaneFedBroker]:
    """A consumer-side broker over fakeredis, one lane shard, no middleware."""
    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    made = LaneFedBroker(lanes=Lanes(redis, "rc"), client=redis, namespace="rc", middleware=[])
    made.declare_queue("action")
    yield made
    made.close()


def lose_next_reply(broker: LaneFedBroker, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The next fetch runs on Redis, then its connection drops before the reply arrives
    (as when a master is killed between running the script and answering)."""
    real: Callable[..., Any] = broker.lanes.admit_and_fetch
    lost: list[Any] = []

    def reply_lost(queue: str, consumer: Any, **options: Any) -> Any:
        monkeypatch.setattr(broker.lanes, "admit_and_fetch", real)
        lost.extend(real(queue, consumer, **options))
        raise RedisConnectionError("connection reset by peer")

    monkeypatch.setattr(broker.lanes, "admit_and_fetch", reply_lost)
    return lost


def acks(broker: LaneFedBroker) -> set[bytes]:
    return set(broker.client.smembers(QueueKeys("rc", "action").acks(broker.broker_id)))


def reclaimed_total() -> float:
    value = REGISTRY.get_sample_value("switchyard_fetches_reclaimed_total", {"queue": "action"})
    return value or 0.0


def test_jobs_of_a_fetch_whose_reply_was_lost_are_fetched_again(
    broker: LaneFedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost fetch's jobs sit in the live worker's ack set; its next fetch reclaims and
    delivers them (before: they waited there until the worker died), counted in a metric."""
    for _ in range(3):
        broker.lanes.push_message(job_message(ORG), org=ORG, priority=5)
    before = reclaimed_total()
    lost = lose_next_reply(broker, monkeypatch)
    with pytest.raises(RedisConnectionError):
        broker.do_fetch("action", 10)
    assert len(lost) == 3 and acks(broker) == {redis_id for redis_id, _ in lost}
    again = broker.do_fetch("action", 10)
    assert sorted(redis_id for redis_id, _, _ in again) == sorted(r for r, _ in lost)
    assert reclaimed_total() - before == 3


def test_jobs_the_worker_holds_are_not_reclaimed(
    broker: LaneFedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs fetched before the lost reply (running, or done with their ack kept for the next
    fetch) stay with the worker: none runs twice, and the kept ack is still applied."""
    for _ in range(4):
        broker.lanes.push_message(job_message(ORG), org=ORG, priority=5)
    consumer = broker.consume("action", prefetch=2, timeout=10)
    running, done = next(consumer), next(consumer)
    assert running is not None and done is not None
    consumer.ack(done)  # kept, to ride on the next fetch
    lost = lose_next_reply(broker, monkeypatch)
    with pytest.raises(RedisConnectionError):
        broker.do_fetch("action", 10)
    assert len(lost) == 2
    again = broker.do_fetch("action", 10)
    assert sorted(redis_id for redis_id, _, _ in again) == sorted(r for r, _ in lost)
    held = running.options["redis_message_id"].encode()
    assert acks(broker) == {held, *(r for r, _ in lost)}
    assert not broker.client.hexists(
        QueueKeys("rc", "action").msgs, done.options["redis_message_id"]
    )
    consumer.close()


def test_fetched_jobs_that_could_not_be_handed_back_are_reclaimed(
    broker: LaneFedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consumer closing after a connection error cannot hand its cached jobs back; the
    next fetch (by the restarted consumer) puts them back and delivers them."""
    for _ in range(3):
        broker.lanes.push_message(job_message(ORG), org=ORG, priority=5)
    consumer = broker.consume("action", prefetch=3, timeout=10)
    first = next(consumer)
    assert first is not None
    cached = [redis_id for redis_id, _, _ in consumer.message_cache]
    assert len(cached) == 2

    def refused(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr(broker, "do_requeue", refused)
    consumer.close()
    monkeypatch.undo()
    again = broker.do_fetch("action", 10)
    assert sorted(redis_id for redis_id, _, _ in again) == sorted(cached)


def test_a_stray_no_error_announced_is_reclaimed_within_a_beat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fetch redis-py re-sent after a lost reply succeeds the second time, so no error
    reaches the broker; the first send's jobs still go back within a beat (here 250 ms),
    while the jobs the worker holds stay in its ack set."""
    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    broker = LaneFedBroker(
        lanes=Lanes(redis, "rc"),
        client=redis,
        namespace="rc",
        middleware=[],
        heartbeat_timeout=1_000,
    )
    broker.declare_queue("action")
    for _ in range(4):
        broker.lanes.push_message(job_message(ORG), org=ORG, priority=5)
    first_send = broker.lanes.admit_and_fetch(
        "action", FetchingConsumer(broker.broker_id, 0), depth=2, fetch=2
    )
    held = broker.do_fetch("action", 2)
    assert {r for r, _ in first_send}.isdisjoint(r for r, _, _ in held)
    assert broker.do_fetch("action", 2) == []  # not yet due: the strays wait
    time.sleep(0.3)
    again = broker.do_fetch("action", 2)
    assert sorted(r for r, _, _ in again) == sorted(r for r, _ in first_send)
    assert acks(broker) == {r for r, _, _ in held + again}
    broker.close()


def test_a_fetched_id_without_a_body_leaves_the_ack_set(broker: LaneFedBroker) -> None:
    """An id whose body is gone (acknowledged late) is skipped and, at the next fetch, no
    longer sits in the worker's ack set (before: there until the worker died)."""
    keys = QueueKeys("rc", "action")
    broker.client.rpush(keys.ready, "ghost")
    consumer = broker.consume("action", prefetch=2, timeout=10)
    assert next(consumer) is None
    assert acks(broker) == {b"ghost"}
    broker.do_fetch("action", 2)
    assert acks(broker) == set()
    assert broker.client.llen(keys.ready) == 0
    consumer.close()
