"""An upgrade strands no job: what the old Dramatiq layout held moves to the tagged keys."""

from __future__ import annotations

from redis import Redis
from redis.cluster import RedisCluster

from queueing.keys import QueueKeys
from workers.recovery import AckRecovery

NOW_MS = 1_800_000_000_000


def old_job(redis: Redis, ns: str, message_id: str) -> None:
    redis.hset(f"{ns}:action.msgs", message_id, f"body-{message_id}")


def test_ready_jobs_and_dead_old_workers_acks_move_but_a_live_workers_stay(
    any_redis: Redis, namespace: str
) -> None:
    """Old ready ids and the ack set of a lapsed old worker move to the queue's tagged
    ready list with their bodies; a live old worker keeps what it fetched."""
    ns, redis = namespace, any_redis
    for message_id in ("r1", "r2", "dead-1", "live-1"):
        old_job(redis, ns, message_id)
    redis.rpush(f"{ns}:action", "r1", "r2")
    redis.sadd(f"{ns}:__acks__.gone.action", "dead-1")
    redis.sadd(f"{ns}:__acks__.alive.action", "live-1")
    redis.zadd(f"{ns}:__heartbeats__", {"gone": NOW_MS - 60_000, "alive": NOW_MS})
    recovery = AckRecovery(redis, ns, ["action", "sync"], heartbeat_timeout_ms=15_000)

    if isinstance(redis, RedisCluster):  # a cluster never held the old layout
        assert recovery.sweep(NOW_MS) == {}
        return
    assert recovery.sweep(NOW_MS) == {"action": 3}
    keys = QueueKeys(ns, "action")
    assert sorted(redis.lrange(keys.ready, 0, -1)) == [b"dead-1", b"r1", b"r2"]
    assert redis.hget(keys.msgs, "r1") == b"body-r1"
    assert redis.hkeys(f"{ns}:action.msgs") == [b"live-1"]
    assert redis.exists(f"{ns}:action", f"{ns}:__acks__.gone.action") == 0
    assert recovery.sweep(NOW_MS) == {}  # once per process
