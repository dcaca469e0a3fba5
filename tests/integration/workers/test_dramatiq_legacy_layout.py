"""The key layout ``workers.legacy_queues`` moves jobs out of is the one the installed
Dramatiq writes: a stock ``RedisBroker`` (what versions before the tagged keys ran) sends and
fetches, and the upgrade path finds every job it left."""

from __future__ import annotations

import time
from collections.abc import Iterator

import fakeredis
import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

from queueing.keys import QueueKeys
from workers.legacy_queues import move_legacy_jobs


@pytest.fixture(params=["fakeredis", "redis"])
def redis(request: pytest.FixtureRequest) -> Iterator[Redis]:
    if request.param == "fakeredis":
        yield fakeredis.FakeRedis(server=fakeredis.FakeServer())
    else:
        yield request.getfixturevalue("real_redis")


def job(body: str) -> Message[None]:
    return Message(
        queue_name="action", actor_name="run_action", args=(body,), kwargs={}, options={}
    )


def test_jobs_a_stock_dramatiq_broker_left_queued_or_fetched_move_to_the_tagged_keys(
    redis: Redis, namespace: str
) -> None:
    """A queued job and one fetched by a worker that then died, written by Dramatiq itself,
    are read where legacy_queues looks and move, bodies intact, to the queue's tagged keys."""
    broker = RedisBroker(client=redis, namespace=namespace, middleware=[])
    broker.declare_queue("action")
    sent = [broker.enqueue(job(body)) for body in ("first", "second")]
    redis_ids = [m.options["redis_message_id"] for m in sent]
    consumer = broker.consume("action", prefetch=1, timeout=100)
    taken = next(m for m in (next(consumer) for _ in range(100)) if m is not None)
    assert taken.options["redis_message_id"] == redis_ids[0]

    ns = namespace
    assert redis.lrange(f"{ns}:action", 0, -1) == [redis_ids[1].encode()]
    assert redis.smembers(f"{ns}:__acks__.{broker.broker_id}.action") == {redis_ids[0].encode()}
    assert redis.zscore(f"{ns}:__heartbeats__", broker.broker_id) is not None
    assert sorted(redis.hkeys(f"{ns}:action.msgs")) == sorted(i.encode() for i in redis_ids)

    lapsed_after_ms = int(time.time() * 1000) + 60_000  # the fetching worker counts as dead
    assert move_legacy_jobs(redis, ns, ["action"], lapsed_after_ms) == {"action": 2}
    keys = QueueKeys(ns, "action")
    assert sorted(redis.lrange(keys.ready, 0, -1)) == sorted(i.encode() for i in redis_ids)
    assert [redis.hget(keys.msgs, i) for i in redis_ids] == [m.encode() for m in sent]
    assert redis.exists(f"{ns}:action", f"{ns}:action.msgs") == 0
