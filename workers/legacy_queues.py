"""Jobs left in Dramatiq's own Redis layout by a version before the tagged consumer keys.

Up to that version, admitted jobs waited in ``<ns>:<queue>`` (ids) and ``<ns>:<queue>.msgs``
(bodies), and fetched ones in ``<ns>:__acks__.<worker>.<queue>``; now they live under the
queue's hash tag (:class:`queueing.keys.QueueKeys`). So that an upgrade strands no accepted
job, each worker process moves what the old layout still holds once, at its first recovery
sweep: ready ids, and the ack sets of workers whose old heartbeat (``<ns>:__heartbeats__``)
lapsed — a live old worker keeps its own and acknowledges them itself.

Each job moves in one ``MULTI``/``EXEC`` (written to the new keys and removed from the old
ones together), so none is lost. Only a single Redis can hold the old layout (it never ran on
a cluster). Two processes moving at the same moment may both move one job: it then runs
twice (at-least-once), never zero times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

from redis import Redis
from redis.cluster import RedisCluster

from queueing.keys import QueueKeys

logger = logging.getLogger("switchyard.recovery")


def move_legacy_jobs(
    redis: Redis, namespace: str, queues: Sequence[str], cutoff_ms: int
) -> dict[str, int]:
    """Move jobs of the old layout into the tagged keys; how many, by queue (none: {})."""
    if isinstance(redis, RedisCluster):
        return {}
    moved: dict[str, int] = {}
    lapsed = _lapsed_workers(redis, namespace, cutoff_ms)
    for queue in queues:
        old_queue = f"{namespace}:{queue}"
        sources = [old_queue, *(f"{namespace}:__acks__.{w}.{queue}" for w in lapsed)]
        count = sum(_move(redis, QueueKeys(namespace, queue), old_queue, s) for s in sources)
        if count:
            moved[queue] = count
            logger.warning("moved %d job(s) of %s from the old Dramatiq layout", count, queue)
    return moved


def _lapsed_workers(redis: Redis, namespace: str, cutoff_ms: int) -> list[str]:
    found = cast(list[bytes], redis.zrangebyscore(f"{namespace}:__heartbeats__", 0, cutoff_ms))
    return [worker.decode() for worker in found]


def _move(redis: Redis, keys: QueueKeys, old_queue: str, source: str) -> int:
    """Move every id of ``source`` (a list or an ack set) whose body is in the old hash."""
    old_msgs = f"{old_queue}.msgs"
    is_list = redis.type(source) == b"list"
    ids = redis.lrange(source, 0, -1) if is_list else sorted(redis.smembers(source))
    moved = 0
    for raw in cast(list[bytes], ids):
        message_id = raw.decode()
        body = cast(bytes | None, redis.hget(old_msgs, message_id))
        pipe = redis.pipeline(transaction=True)
        if body is not None:
            pipe.hset(keys.msgs, message_id, body)
            pipe.rpush(keys.ready, message_id)
            pipe.hdel(old_msgs, message_id)
            moved += 1
        if is_list:
            pipe.lrem(source, 1, message_id)
        else:
            pipe.srem(source, message_id)
        pipe.execute()
    return moved
