"""Per-(queue, org) lanes in Redis: where jobs wait before the Dramatiq queue.

Producers push into their org's lane (:mod:`queueing.lane_push`); worker processes *admit*
jobs round-robin across orgs (weighted) into the Dramatiq queue, keeping it shallow, so one
tenant's 100k backlog cannot starve another tenant. Everything that waits — ``not_before``,
retry backoff, rate-limit deferrals — waits in the queue's ``waiting`` sorted set, scored by
due time (Redis clock), and returns to its lane when due; worker memory holds none of it.

Admission writes the queue's ready list and message hash (what Dramatiq's Redis broker
keeps as ``<ns>:<queue>`` and ``….msgs``, here under the queue's tag) in the same atomic
script that takes the job from its lane, so a job is always in exactly one place and a
worker dying mid-admission loses or duplicates nothing. Each push is its own entry, whose
id is the Dramatiq message's Redis id (:meth:`Lanes.push_message` assigns a fresh one).

A queue's lanes are split into ``shards`` (``SWITCHYARD_WORKERS__LANE_SHARDS``): an org's
jobs all go to shard :func:`queueing.keys.shard_of` its org, and every key of one shard —
lanes, claims, ready list, bodies, ack sets, beats, cancel memory — shares that shard's hash
tag (see :mod:`queueing.keys`), so a Redis Cluster runs each script and spreads one queue's
shards over its masters. Admission is fair across the orgs of a shard; consumers visit the
shards in turn (:mod:`workers.lane_broker`), so no shard waits behind another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis
from redis.cluster import RedisCluster

from queueing import scripts
from queueing.keys import QueueKeys, queue_shards
from queueing.lane_push import (
    AlsoWrite,
    Claim,
    Encoded,
    JobCancelled,
    LanePushes,
    Push,
    new_entry_id,
)
from queueing.replication import Durability, NotReplicated

__all__ = [
    "Admitted",
    "AlsoWrite",
    "Claim",
    "Durability",
    "Encoded",
    "FetchingConsumer",
    "JobCancelled",
    "LaneDepth",
    "Lanes",
    "NotReplicated",
    "Push",
    "new_entry_id",
]

MAX_RELANES_PER_ADMIT = 1_000


@dataclass(frozen=True)
class LaneDepth:
    """How many jobs of a queue wait where (for the exporter and for tests)."""

    laned: int
    waiting: int
    orgs: int
    oldest_due_age_ms: int | None = None
    """How long the oldest laned job has been due (None when no job is laned)."""

    @property
    def total(self) -> int:
        return self.laned + self.waiting


@dataclass(frozen=True)
class Admitted:
    """One admission: jobs moved, and jobs still due in the lanes behind a full queue."""

    moved: int
    backlog: int


@dataclass(frozen=True)
class FetchingConsumer:
    """Who fetches: its id (its ack set is ``<queue tag>:acks:<id>``) and clock, and the ids
    it finished since its last fetch (acknowledged by this fetch)."""

    worker_id: str
    now_ms: int
    acked: Sequence[str] = ()


class Lanes(LanePushes):
    """The lane store of one Redis (one namespace, ``shards`` lane shards per queue);
    thread-safe."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        durability: Durability | None = None,
        *,
        shards: int = 1,
    ) -> None:
        if shards < 1:
            raise ValueError(f"lane shards must be at least 1, not {shards}")
        self.redis = redis
        self.namespace = namespace
        self.shards = shards
        self.durability = durability or Durability()
        self._push = scripts.register(redis, "lanes_push.lua")
        self._push_many = scripts.register(redis, "lanes_push_many.lua")
        self._admit = scripts.register(redis, "lanes_admit.lua")
        self._fetch = scripts.register(redis, "lanes_fetch.lua")
        self._cancel = scripts.register(redis, "lanes_cancel.lua")

    def all_keys(self, queue: str) -> list[QueueKeys]:
        """The keys of every shard of ``queue``, shard 0 first."""
        return queue_shards(self.namespace, queue, self.shards)

    def cancel(
        self,
        queue: str,
        entry_id: str,
        job_id: str,
        *,
        org: str,
        remember_ms: int,
        now_ms: int | None = None,
    ) -> bool:
        """Take a laned or waiting entry out of ``org``'s shard, atomically with admission:
        True when taken (it never runs). Else the job was admitted (or is gone): its id is
        remembered for ``remember_ms`` and a later push of it raises :class:`JobCancelled`.
        ``now_ms``: the clock to use (tests; the Redis server's when None)."""
        prefix = self.prefix(queue, self.shard_of(org))
        args: list[str | int] = [entry_id, job_id, remember_ms, _clock(now_ms)]
        taken = self._cancel(keys=[prefix], args=args)
        return int(taken) == 1

    def admit(
        self, queue: str, depth: int, shard: int = 0, *, now_ms: int | None = None
    ) -> Admitted:
        """Top one shard of Dramatiq's ``queue`` up to ``depth`` ready messages, fairly
        across its orgs; waiting jobs due by ``now_ms`` (the Redis server's clock when None)
        return to their lanes first.

        The ready ids go to ``<shard tag>:ready``, their bodies to ``<shard tag>:msgs``.
        """
        keys = self.keys(queue, shard)
        moved, backlog = self._admit(
            keys=[keys.tag, keys.ready, keys.msgs],
            args=[max(0, depth), MAX_RELANES_PER_ADMIT, _clock(now_ms)],
        )
        return Admitted(moved=int(moved), backlog=int(backlog))

    def admit_and_fetch(
        self, queue: str, consumer: FetchingConsumer, *, depth: int, fetch: int, shard: int = 0
    ) -> list[tuple[bytes, bytes | None]]:
        """A consumer's fetch from one shard in one round trip: acknowledge
        ``consumer.acked`` (ids fetched from this shard), top the shard's queue up to
        ``depth`` (as :meth:`admit`), take up to ``fetch`` ids into the consumer's ack set
        (as Dramatiq's fetch); returns ``(id, message data)`` pairs (data None when the body
        is missing)."""
        keys = self.keys(queue, shard)
        fetching: list[str | int] = [consumer.worker_id, consumer.now_ms, max(0, fetch), ""]
        _, _, ids, bodies = self._fetch(
            keys=[
                *(keys.tag, keys.ready, keys.msgs),
                *(keys.acks(consumer.worker_id), keys.beats),
            ],
            args=[max(0, depth), MAX_RELANES_PER_ADMIT, *fetching, *consumer.acked],
        )
        return [(redis_id, body or None) for redis_id, body in zip(ids, bodies, strict=True)]

    def set_weight(self, queue: str, org: str, weight: int) -> None:
        self.redis.hset(self.keys(queue, self.shard_of(org)).lane("weights"), org, weight)

    def depth(self, queue: str) -> LaneDepth:
        """Counts per state and the oldest laned job's age for one queue."""
        return self.depths([queue])[queue]

    def depths(self, queues: Sequence[str]) -> dict[str, LaneDepth]:
        """:meth:`depth` of many queues, summed over their shards, in one round trip (four
        O(1) reads per queue and shard, and the server clock; on a cluster, whose pipelines
        refuse the keyless TIME, one more). ``orgs`` counts an org once per shard, and each
        org is in one shard."""
        clock_in_pipeline = not isinstance(self.redis, RedisCluster)
        pipe = self.redis.pipeline(transaction=False)
        if clock_in_pipeline:
            pipe.time()
        for queue in queues:
            for keys in self.all_keys(queue):
                pipe.zcard(keys.lane("due"))
                pipe.zcard(keys.lane("waiting"))
                pipe.scard(keys.lane("active"))
                pipe.zrange(keys.lane("due"), 0, 0, withscores=True)
        replies = pipe.execute()
        seconds, micros = replies.pop(0) if clock_in_pipeline else self.redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        found = {}
        for index, queue in enumerate(queues):
            per_queue = replies[index * 4 * self.shards : (index + 1) * 4 * self.shards]
            shards = [per_queue[i : i + 4] for i in range(0, len(per_queue), 4)]
            heads = [int(oldest[0][1]) for _, _, _, oldest in shards if oldest]
            found[queue] = LaneDepth(
                laned=sum(int(s[0]) for s in shards),
                waiting=sum(int(s[1]) for s in shards),
                orgs=sum(int(s[2]) for s in shards),
                oldest_due_age_ms=max(0, now_ms - min(heads)) if heads else None,
            )
        return found


def _clock(now_ms: int | None) -> int | str:
    """A lane script's optional ``now`` argument: '' lets the script read the server's."""
    return "" if now_ms is None else int(now_ms)
