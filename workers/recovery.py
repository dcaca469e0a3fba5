"""Recovery of the jobs a dead worker held: deterministic, on a timer, not a dice roll.

A worker process takes jobs into its ack set of a queue shard (``<shard tag>:acks:<worker>``)
when it fetches and takes them out when it acknowledges. Killed in between, it leaves them
there. Dramatiq requeues such jobs in "maintenance" that rides on a random fraction of
commands, which under our lane-fed fetch almost never ran — and a dice roll cannot promise a
bound anyway. Here every worker process sweeps on a timer: per queue, the workers whose last
beat in the queue's beats set is older than the heartbeat timeout get their ack set pushed
back to the head of the queue, one atomic script per (dead worker, queue, lane shard)
(:file:`lua/recover_acks.lua`, every key under the shard's hash tag), so concurrent sweeps
never requeue a job twice. Every lane shard of a queue has its own beats and ack sets: a
worker stamps all of them, and a sweep visits all of them.

Liveness comes from :class:`workers.middleware.heartbeat.WorkerHeartbeat`, which stamps the
broker's id in the beats set of each queue it consumes every ``heartbeat_timeout / 4`` from
its own thread — a worker busy with long jobs, whose consumers do not fetch, still counts as
alive. Recovery bound: a killed worker's jobs are back in their queues at most
``heartbeat_timeout`` (its last beat aging out) plus one sweep interval
(``heartbeat_timeout / 4``) after it died, i.e. within ``1.25 x heartbeat_timeout`` (see
:func:`recovery_bound_ms`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import cast

from redis import Redis

from contract.metrics import JOBS_RECOVERED
from queueing import scripts
from queueing.keys import QueueKeys, queue_shards
from workers.legacy_queues import move_legacy_jobs

logger = logging.getLogger("switchyard.recovery")

MAX_DEAD_PER_SWEEP = 100
"""Dead workers handled per queue and sweep (the rest wait for the next one): a sweep stays
short."""


def beat_interval_ms(heartbeat_timeout_ms: int) -> int:
    """How often a live worker stamps its heartbeat, and how often it sweeps."""
    return max(250, heartbeat_timeout_ms // 4)


def recovery_bound_ms(heartbeat_timeout_ms: int) -> int:
    """The longest a dead worker's jobs stay stranded: its beat ages out, then one sweep."""
    return heartbeat_timeout_ms + beat_interval_ms(heartbeat_timeout_ms)


def stamp_beats(
    redis: Redis, namespace: str, queues: Sequence[str], worker_id: str, shards: int = 1
) -> None:
    """Record that ``worker_id`` is alive, in the beats set of each shard of each queue it
    consumes (one round trip; on a cluster each shard's key lives on its own slot, so no
    transaction)."""
    now_ms = int(time.time() * 1000)
    pipe = redis.pipeline(transaction=False)
    for queue in queues:
        for keys in queue_shards(namespace, queue, shards):
            pipe.zadd(keys.beats, {worker_id: now_ms})
    pipe.execute()


def stranded_jobs(
    redis: Redis,
    namespace: str,
    queues: Sequence[str],
    heartbeat_timeout_ms: int,
    now_ms: int,
    shards: int = 1,
) -> dict[str, int]:
    """Jobs held, by queue (all its shards), by workers silent for longer than the recovery
    bound: what recovery should already have requeued (the exporter's gauge; 0 when well)."""
    cutoff = now_ms - recovery_bound_ms(heartbeat_timeout_ms)
    shard_keys = [keys for queue in queues for keys in queue_shards(namespace, queue, shards)]
    pipe = redis.pipeline(transaction=False)
    for keys in shard_keys:
        pipe.zrangebyscore(keys.beats, 0, cutoff)
    silent = list(zip(shard_keys, cast(list[list[bytes]], pipe.execute()), strict=True))
    pipe = redis.pipeline(transaction=False)
    for keys, workers in silent:
        for worker in workers:
            pipe.scard(keys.acks(worker.decode()))
    counts = iter(pipe.execute() if any(workers for _, workers in silent) else [])
    found = dict.fromkeys(queues, 0)
    for keys, workers in silent:
        found[keys.queue] += sum(int(next(counts)) for _ in workers)
    return found


class AckRecovery:
    """Requeues the unacknowledged jobs of workers whose heartbeat lapsed.

    ``queues`` must name every queue any worker may consume (not only this process's): a
    dead worker's ack sets of all of them, in each of their ``shards``, are recovered.
    """

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        queues: Sequence[str],
        heartbeat_timeout_ms: int,
        shards: int = 1,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.queues = list(queues)
        self.shards = shards
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self._recover = scripts.register(redis, "recover_acks.lua")
        self._legacy_moved = False
        for queue in self.queues:  # a counter at 0, not absent, until something is recovered
            JOBS_RECOVERED.labels(queue=queue)

    def sweep(self, now_ms: int) -> dict[str, int]:
        """Recover every worker silent since before ``now_ms - heartbeat_timeout``.

        Returns how many jobs went back, by queue (queues with none are left out)."""
        cutoff = now_ms - self.heartbeat_timeout_ms
        recovered: dict[str, int] = {}
        if not self._legacy_moved:  # once per process: jobs an older version left behind
            recovered.update(move_legacy_jobs(self.redis, self.namespace, self.queues, cutoff))
            self._legacy_moved = True
        for keys in (k for q in self.queues for k in queue_shards(self.namespace, q, self.shards)):
            queue = keys.queue
            dead = cast(
                list[tuple[bytes, float]],
                self.redis.zrangebyscore(
                    keys.beats, 0, cutoff, start=0, num=MAX_DEAD_PER_SWEEP, withscores=True
                ),
            )
            for raw, last_beat_ms in dead:
                count = self._recover_worker(keys, raw.decode(), cutoff)
                if count:
                    recovered[queue] = recovered.get(queue, 0) + count
                    JOBS_RECOVERED.labels(queue=queue).inc(count)
                    silent_s = round((now_ms - last_beat_ms) / 1000, 1)
                    logger.warning(
                        "requeued %d job(s) of dead worker %s on queue %s; silent for %.1f s",
                        *(count, raw.decode(), queue, silent_s),
                        extra={"recovered_jobs": count, "queue": queue, "silent_s": silent_s},
                    )
        return recovered

    def _recover_worker(self, keys: QueueKeys, worker: str, cutoff: int) -> int:
        _lapsed, moved = cast(
            list[int],
            self._recover(
                keys=[keys.beats, keys.acks(worker), keys.ready, keys.msgs], args=[worker, cutoff]
            ),
        )
        return int(moved)
