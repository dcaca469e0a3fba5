"""Writes that must reach the replicas before their caller goes on (Redis ``WAIT``).

Replication is asynchronous: a master that acknowledged a write and then died before sending
it on loses it when its replica is promoted. Where a later write on another master depends
on an earlier one — a producer answering "accepted", a worker acknowledging the message whose
job it just laned again or parked — the earlier one is confirmed by the replicas first, when
the operator asked for it (``SWITCHYARD_JOBS__ENQUEUE_REPLICAS``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

TOPOLOGY_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    MovedError,
    AskError,
    ClusterDownError,
    TryAgainError,
    ReadOnlyError,
    MasterDownError,
)
"""What a write straight to a node's connection meets when the key's master failed or moved."""
REFRESH_EVERY_S = 0.25
"""At most one forced slot-map refresh per client this often (a failover makes every
durable write fail at once)."""
_refreshed_at: weakref.WeakKeyDictionary[RedisCluster, float] = weakref.WeakKeyDictionary()
_refresh_lock = threading.Lock()


@dataclass(frozen=True)
class Durability:
    """How many replicas must hold a write before its caller goes on (Redis ``WAIT``);
    0: go on once the master has it (a failover in the replication window can lose it)."""

    replicas: int = 0
    timeout_ms: int = 1_000


class NotReplicated(RedisTimeoutError):
    """Fewer replicas than asked confirmed a write in time. It is on the master and stays,
    but a failover now could lose it: a producer may send its job again (with its
    idempotency key, a resend is the same job). A Redis timeout, so the API and CLI answer it
    as Redis being unavailable (503, retry)."""


def write_on_replicas(
    redis: Redis, key: str, durability: Durability, write: Callable[[Pipeline], Any]
) -> tuple[list[Any], int]:
    """``write``'s commands and a ``WAIT``, on one connection of the master holding ``key``
    (WAIT counts the replicas that have this connection's writes, so it must follow them on
    the same connection: a pool could hand it another). Returns the commands' replies and
    how many replicas confirmed.

    On a cluster the node's own connection bypasses the cluster client's error handling,
    which is what refreshes its slot map: so a write that fails there refreshes it here, or
    a client doing only durable writes would keep writing to a dead master after its
    replica took over."""
    target: Redis = redis
    if isinstance(redis, RedisCluster):
        target = redis.get_node_from_key(key).redis_connection
    pipe = target.pipeline(transaction=False)
    write(pipe)
    pipe.wait(durability.replicas, durability.timeout_ms)
    try:
        *replies, confirmed = pipe.execute()
    except TOPOLOGY_ERRORS:
        if isinstance(redis, RedisCluster):
            refresh_slot_map(redis)
        raise
    return replies, int(confirmed)


def refresh_slot_map(cluster: RedisCluster) -> None:
    """Re-read the cluster's topology (throttled per client, see :data:`REFRESH_EVERY_S`)."""
    now = time.monotonic()
    with _refresh_lock:
        if now - _refreshed_at.get(cluster, float("-inf")) < REFRESH_EVERY_S:
            return
        _refreshed_at[cluster] = now
    cluster.nodes_manager.initialize()


def shortfall(durability: Durability, confirmed: int, what: str) -> NotReplicated:
    """The error for a write fewer replicas than asked confirmed."""
    wanted, timeout_ms = durability.replicas, durability.timeout_ms
    return NotReplicated(
        f"{confirmed} of {wanted} replica(s) confirmed {what} within {timeout_ms} ms"
    )
