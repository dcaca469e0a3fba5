"""The parts of Dramatiq's Redis broker that are not public API and Switchyard relies on.

``workers.lane_broker`` subclasses Dramatiq's private ``_RedisConsumer`` and replaces every
``do_<command>`` of ``RedisBroker`` (which would otherwise run ``dispatch.lua`` on Dramatiq's
untagged keys). pyproject pins Dramatiq to one major version; these tests fail when an
upgrade inside it changes what the subclasses rely on.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import dramatiq.brokers.redis as dramatiq_redis
from dramatiq import Message
from dramatiq.broker import MessageProxy
from dramatiq.common import compute_backoff, q_name

from workers.lane_broker import LaneFedBroker, RoomWaitingConsumer


class RecordingBroker:
    """Stands in for the broker a consumer talks to: records the commands it is sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def do_ack(self, *args: Any, shard: int) -> None:
        self.calls.append(("ack", (*args, shard)))

    def do_nack(self, *args: Any, shard: int) -> None:
        self.calls.append(("nack", (*args, shard)))


def fetched(message_id: str, redis_id: str) -> MessageProxy:
    message = Message(
        queue_name="action",
        actor_name="run_action",
        args=(),
        kwargs={},
        options={"redis_message_id": redis_id},
        message_id=message_id,
    )
    return MessageProxy(message)


def test_every_redis_command_dramatiq_sends_is_one_of_ours() -> None:
    """Each ``do_<command>`` Dramatiq's Redis broker and consumer call is defined by
    LaneFedBroker, so none falls through to ``dispatch.lua`` and Dramatiq's key layout."""
    source = inspect.getsource(dramatiq_redis)
    commands = set(re.findall(r"\.do_(\w+)\(", source))
    assert commands == {"enqueue", "purge", "qsize", "ack", "nack", "requeue", "fetch"}
    assert {c for c in commands if f"do_{c}" not in vars(LaneFedBroker)} == set()


def test_the_private_consumer_takes_and_keeps_what_room_waiting_consumer_reads() -> None:
    """``_RedisConsumer(broker, queue_name, prefetch, timeout)`` keeps its arguments and the
    cache, queued ids and miss counter the subclass reads and writes."""
    params = list(inspect.signature(dramatiq_redis._RedisConsumer.__init__).parameters)
    assert params == ["self", "broker", "queue_name", "prefetch", "timeout"]
    broker = RecordingBroker()
    consumer = RoomWaitingConsumer(broker, "action", 8, 250)
    assert (consumer.broker, consumer.queue_name, consumer.prefetch, consumer.timeout) == (
        broker,
        "action",
        8,
        250,
    )
    assert (consumer.message_cache, consumer.queued_message_ids, consumer.misses) == ([], set(), 0)
    consumer.message_cache = [(b"r-1", b"{}"), (b"r-2", b"{}")]
    consumer.queued_message_ids.add("m-0")
    assert consumer.outstanding_message_count == 3


def test_the_consumer_acks_and_nacks_by_redis_id_on_its_own_queue_and_shard() -> None:
    """Ack and nack send the message's ``redis_message_id`` to the broker's
    ``do_ack``/``do_nack`` for the consumer's queue and the message's lane shard, and forget
    the message id from the private ``queued_message_ids``."""
    broker = RecordingBroker()
    consumer = RoomWaitingConsumer(broker, "action", 4, 100)
    consumer.queued_message_ids.update({"m-1", "m-2"})
    consumer.ack(fetched("m-1", "r-1"))
    consumer.nack(fetched("m-2", "r-2"))
    assert broker.calls == [("ack", ("action", "r-1", 0)), ("nack", ("action", "r-2", 0))]
    assert consumer.queued_message_ids == set()


def test_the_broker_builds_its_consumers_from_consumer_class() -> None:
    """``RedisBroker.consume`` instantiates ``consumer_class`` (the hook LaneFedBroker uses)."""
    source = inspect.getsource(dramatiq_redis.RedisBroker.consume)
    assert "self.consumer_class(self, queue_name, prefetch, timeout)" in source
    assert LaneFedBroker.consumer_class.fget is not None
    assert LaneFedBroker.consumer_class.fget(None) is RoomWaitingConsumer


def test_the_common_helpers_keep_their_meaning() -> None:
    """``q_name`` strips the delay and dead suffixes; ``compute_backoff`` counts a miss and
    stays within ``max_backoff``."""
    assert [q_name(n) for n in ("action", "action.DQ", "action.XQ")] == ["action"] * 3
    misses, backoff_ms = compute_backoff(3, max_backoff=40)
    assert misses == 4
    assert 0 <= backoff_ms <= 40
