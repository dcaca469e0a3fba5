"""Worker heartbeats in Redis: which worker processes are alive, for the exporter and alerts.

Recovery reads each queue's beats set (:mod:`workers.recovery`), which names broker ids per
queue, not processes. Each worker process writes ``{namespace}:__switchyard_workers__`` (a sorted set: member
``host:pid``, score the last beat in seconds) and removes itself on a clean shutdown; a
killed one simply stops beating and ages out. One key, one command per beat.
"""

from __future__ import annotations

import os
import socket
import time

from redis import Redis

from queueing.keys import worker_processes

BEAT_INTERVAL_S = 5.0
FORGET_AFTER_S = 3600.0
"""Members silent this long are removed by the next beat, so the set stays small."""


heartbeat_key = worker_processes


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
