"""Worker heartbeats in Redis: which worker processes are alive, for the exporter and alerts.

Dramatiq keeps its own ``{namespace}:__heartbeats__`` set, but every broker that talks to
Redis writes it — producers (the API) included — so it cannot say how many *workers* run.
Each worker process writes ``{namespace}:__switchyard_workers__`` (a sorted set: member
``host:pid``, score the last beat in seconds) and removes itself on a clean shutdown; a
killed one simply stops beating and ages out. One key, one command per beat.
"""

from __future__ import annotations

import os
import socket
import time

from redis import Redis

BEAT_INTERVAL_S = 5.0
FORGET_AFTER_S = 3600.0
"""Members silent this long are removed by the next beat, so the set stays small."""


def heartbeat_key(namespace: str) -> str:
    return f"{namespace}:__switchyard_workers__"


def worker_name() -> str:
    """This process's member name: ``host:pid`` (no ids of tenants, ever)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(redis: Redis, namespace: str, member: str, *, now: float | None = None) -> None:
    """Record that ``member`` is alive now, and forget members long dead."""
    now = time.time() if now is None else now
    key = heartbeat_key(namespace)
    pipe = redis.pipeline(transaction=False)
    pipe.zadd(key, {member: now})
    pipe.zremrangebyscore(key, "-inf", now - FORGET_AFTER_S)
    pipe.execute()


def forget(redis: Redis, namespace: str, member: str) -> None:
    """Remove ``member`` (a clean shutdown)."""
    redis.zrem(heartbeat_key(namespace), member)


def alive_workers(
    redis: Redis, namespace: str, timeout_s: float, *, now: float | None = None
) -> int:
    """How many workers beat within the last ``timeout_s`` seconds."""
    now = time.time() if now is None else now
    return int(redis.zcount(heartbeat_key(namespace), now - timeout_s, "+inf"))
