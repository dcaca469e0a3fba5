"""Recovery of the jobs a dead worker held: deterministic, on a timer, not a dice roll.

A worker process takes jobs into its Dramatiq ack set (``__acks__.<worker>.<queue>``) when
it fetches and takes them out when it acknowledges. Killed in between, it leaves them
there. Dramatiq requeues them in "maintenance" that rides on a random fraction of commands
(``maintenance_chance`` per million), which under our lane-fed fetch almost never ran —
and a dice roll cannot promise a bound anyway. Here every worker process sweeps on a timer:
the workers whose last beat in Dramatiq's heartbeats set is older than the heartbeat
timeout get their ack sets pushed back to the head of their queues, one atomic script per
dead worker (:file:`lua/recover_acks.lua`), so concurrent sweeps never requeue a job twice.

Liveness comes from :class:`workers.middleware.heartbeat.WorkerHeartbeat`, which stamps the
broker's id every ``heartbeat_timeout / 4`` from its own thread — a worker busy with long
jobs, whose consumers do not fetch, still counts as alive. Recovery bound: a killed
worker's jobs are back in their queues at most ``heartbeat_timeout`` (its last beat aging
out) plus one sweep interval (``heartbeat_timeout / 4``) after it died, i.e. within
``1.25 x heartbeat_timeout`` (see :func:`recovery_bound_ms`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.resources import files
from typing import cast

from redis import Redis

from workers.metrics import JOBS_RECOVERED

logger = logging.getLogger("switchyard.recovery")

MAX_DEAD_PER_SWEEP = 100
"""Dead workers handled per sweep (the rest wait for the next one): a sweep stays short."""


def beat_interval_ms(heartbeat_timeout_ms: int) -> int:
    """How often a live worker stamps its heartbeat, and how often it sweeps."""
    return max(250, heartbeat_timeout_ms // 4)


def recovery_bound_ms(heartbeat_timeout_ms: int) -> int:
    """The longest a dead worker's jobs stay stranded: its beat ages out, then one sweep."""
    return heartbeat_timeout_ms + beat_interval_ms(heartbeat_timeout_ms)


def dramatiq_heartbeats_key(namespace: str) -> str:
    """Dramatiq's own liveness set (member: broker id, score: last beat in ms)."""
    return f"{namespace}:__heartbeats__"


def ack_set_key(namespace: str, worker_id: str, queue: str) -> str:
    """Dramatiq's set of the ids ``worker_id`` fetched from ``queue`` and has not acked."""
    return f"{namespace}:__acks__.{worker_id}.{queue}"


def stranded_jobs(
    redis: Redis, namespace: str, queues: Sequence[str], heartbeat_timeout_ms: int, now_ms: int
) -> dict[str, int]:
    """Jobs held, by queue, by workers silent for longer than the recovery bound: what
    recovery should already have requeued (the exporter's gauge; 0 when all is well)."""
    cutoff = now_ms - recovery_bound_ms(heartbeat_timeout_ms)
    silent = cast(list[bytes], redis.zrangebyscore(dramatiq_heartbeats_key(namespace), 0, cutoff))
    pipe = redis.pipeline(transaction=False)
    for worker in silent:
        for queue in queues:
            pipe.scard(ack_set_key(namespace, worker.decode(), queue))
    counts = iter(pipe.execute() if silent else [])
    found = dict.fromkeys(queues, 0)
    for _ in silent:
        for queue in queues:
            found[queue] += int(next(counts))
    return found


class AckRecovery:
    """Requeues the unacknowledged jobs of workers whose heartbeat lapsed.

    ``queues`` must name every queue any worker may consume (not only this process's): a
    dead worker's ack sets of all of them are recovered before it is forgotten.
    """

    def __init__(
        self, redis: Redis, namespace: str, queues: Sequence[str], heartbeat_timeout_ms: int
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.queues = list(queues)
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self._recover = redis.register_script(
            files("workers").joinpath("lua", "recover_acks.lua").read_text()
        )
        for queue in self.queues:  # a counter at 0, not absent, until something is recovered
            JOBS_RECOVERED.labels(queue=queue)

    def sweep(self, now_ms: int) -> dict[str, int]:
        """Recover every worker silent since before ``now_ms - heartbeat_timeout``.

        Returns how many jobs went back, by queue (queues with none are left out)."""
        heartbeats = dramatiq_heartbeats_key(self.namespace)
        cutoff = now_ms - self.heartbeat_timeout_ms
        dead = cast(
            list[tuple[bytes, float]],
            self.redis.zrangebyscore(
                heartbeats, 0, cutoff, start=0, num=MAX_DEAD_PER_SWEEP, withscores=True
            ),
        )
        recovered: dict[str, int] = {}
        for raw, last_beat_ms in dead:
            worker = raw.decode()
            for queue, count in self._recover_worker(heartbeats, worker, cutoff).items():
                recovered[queue] = recovered.get(queue, 0) + count
                JOBS_RECOVERED.labels(queue=queue).inc(count)
                logger.warning(
                    "requeued %d job(s) of dead worker %s on queue %s; silent for %.1f s",
                    count,
                    worker,
                    queue,
                    (now_ms - last_beat_ms) / 1000,
                )
        return recovered

    def _recover_worker(self, heartbeats: str, worker: str, cutoff: int) -> dict[str, int]:
        keys = [heartbeats]
        for queue in self.queues:
            base = f"{self.namespace}:{queue}"
            keys += [ack_set_key(self.namespace, worker, queue), base, base + ".msgs"]
        counts = cast(list[int], self._recover(keys=keys, args=[worker, cutoff]))
        return {q: int(n) for q, n in zip(self.queues, counts, strict=False) if int(n)}
