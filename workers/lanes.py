"""Per-(queue, org) lanes in Redis: where jobs wait before the Dramatiq queue.

Producers push into their org's lane; worker processes *admit* jobs round-robin across orgs
(weighted) into the Dramatiq queue, keeping it shallow, so one tenant's 100k backlog cannot
starve another tenant. Everything that waits — ``not_before``, retry backoff, rate-limit
deferrals — waits in the queue's ``waiting`` sorted set, scored by due time (Redis clock),
and returns to its lane when due; worker memory holds none of it.

Admission writes the queue's ready list and message hash (what Dramatiq's Redis broker
keeps as ``<ns>:<queue>`` and ``….msgs``, here under the queue's tag) in the same atomic
script that takes the job from its lane, so a job is always in exactly one place and a
worker dying mid-admission loses or duplicates nothing. Each push is its own entry, whose
id is the Dramatiq message's Redis id (:meth:`Lanes.push_message` assigns a fresh one).
A producer's idempotency claim is taken by the push script itself
(:meth:`Lanes.push_message_once`), so a key is never held by a job that was not laned.
Every key of one queue — lanes, claims, ready list, bodies, ack sets, beats — shares one hash
tag, ``{<namespace>:q:<queue>}`` (see :mod:`workers.keys`): a Redis Cluster runs each script.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from redis import Redis
from redis.cluster import RedisCluster
from redis.exceptions import TimeoutError as RedisTimeoutError

from workers import scripts
from workers.keys import QueueKeys

MAX_RELANES_PER_ADMIT = 1_000
_LANED, _CLAIMED_BEFORE = 1, 2  # lanes_push.lua's statuses (0: waiting)


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


@dataclass(frozen=True)
class Durability:
    """How many replicas must hold a producer's push before it returns (Redis ``WAIT``);
    0: return once the master has it (a failover in the replication window can lose it)."""

    replicas: int = 0
    timeout_ms: int = 1_000


class NotReplicated(RedisTimeoutError):
    """Fewer replicas than asked confirmed a pushed job in time. The job is laned on the
    master and will run, but a failover now could lose it: the caller may send it again
    (with its idempotency key, a resend is the same job). A Redis timeout, so the API and
    CLI answer it as Redis being unavailable (503, retry)."""


@dataclass(frozen=True)
class Claim:
    """An idempotency key claimed together with a push (see :meth:`Lanes.push_message_once`).

    ``key`` is already hashed and unique within its org and queue; ``owner`` (the job id) is
    what later callers with the same key get back, for ``ttl_seconds``.
    """

    key: str
    owner: str
    ttl_seconds: int


class Lanes:
    """The lane store of one Redis (one namespace); thread-safe."""

    def __init__(self, redis: Redis, namespace: str, durability: Durability | None = None) -> None:
        self.redis = redis
        self.namespace = namespace
        self.durability = durability or Durability()
        self._push = scripts.register(redis, "lanes_push.lua")
        self._admit = scripts.register(redis, "lanes_admit.lua")

    def keys(self, queue: str) -> QueueKeys:
        return QueueKeys(self.namespace, queue)

    def prefix(self, queue: str) -> str:
        """The hash-tagged key prefix of a queue's lanes."""
        return self.keys(queue).tag

    def push(
        self,
        queue: str,
        entry_id: str,
        data: bytes,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
    ) -> bool:
        """Put an entry in its org's lane, or in the waiting set for ``delay_ms``.

        ``entry_id`` must be unique per push: admission stores ``data`` under it in
        the queue's message hash. Returns True when the job is laned (due now), False when
        it waits.
        """
        status, _ = self._run_push(queue, [entry_id, data, org, priority, delay_ms, weight])
        return status == _LANED

    def push_message(
        self,
        message: dramatiq.Message[Any] | MessageProxy,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
    ) -> bool:
        """Push a Dramatiq message as a new entry, with a fresh Redis message id."""
        entry_id, data = _fresh_entry(message)
        return self.push(
            message.queue_name,
            entry_id,
            data,
            org=org,
            priority=priority,
            weight=weight,
            delay_ms=delay_ms,
        )

    def push_message_once(
        self,
        message: dramatiq.Message[Any],
        claim: Claim | None,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
    ) -> str | None:
        """:meth:`push_message` unless ``claim`` is already held: claim and push are one
        atomic step, so no crash can leave a claim whose job never landed.

        Returns None when this call claimed the key (or had none) and pushed the message,
        else the id of the job holding the key (the message's own id if an earlier send of
        this very call already went through, e.g. a client-side retry after a lost reply).
        """
        entry_id, data = _fresh_entry(message)
        args: list[Any] = [entry_id, data, org, priority, delay_ms, weight]
        if claim is not None:
            args += [claim.key, claim.owner, claim.ttl_seconds]
        if self.durability.replicas:
            status, owner = self._run_durable_push(message.queue_name, args)
        else:
            status, owner = self._run_push(message.queue_name, args)
        return _text(owner) if status == _CLAIMED_BEFORE else None

    def _run_push(self, queue: str, args: list[Any]) -> tuple[int, Any]:
        args[4] = max(0, int(args[4]))  # delay_ms
        status, owner = self._push(keys=[self.prefix(queue)], args=args)
        return int(status), owner

    def _run_durable_push(self, queue: str, args: list[Any]) -> tuple[int, Any]:
        """The push and a ``WAIT`` on one connection of the master holding the queue: WAIT
        counts the replicas that have this connection's writes, so it must follow the push
        on the same connection (a pool could hand it another)."""
        args[4] = max(0, int(args[4]))  # delay_ms
        target: Redis = self.redis
        if isinstance(target, RedisCluster):
            target = target.get_node_from_key(self.prefix(queue)).redis_connection
        wanted, timeout_ms = self.durability.replicas, self.durability.timeout_ms
        pipe = target.pipeline(transaction=False)
        self._push(keys=[self.prefix(queue)], args=args, client=pipe)
        pipe.wait(wanted, timeout_ms)
        (status, owner), confirmed = pipe.execute()
        if int(status) != _CLAIMED_BEFORE and int(confirmed) < wanted:
            raise NotReplicated(
                f"{confirmed} of {wanted} replica(s) confirmed the job within {timeout_ms} ms"
            )
        return int(status), owner

    def admit(self, queue: str, depth: int) -> Admitted:
        """Top Dramatiq's ``queue`` up to ``depth`` ready messages, fairly across orgs.

        The ready ids go to ``<queue tag>:ready``, their bodies to ``<queue tag>:msgs``.
        """
        keys = self.keys(queue)
        moved, backlog = self._admit(
            keys=[keys.tag, keys.ready, keys.msgs],
            args=[max(0, depth), MAX_RELANES_PER_ADMIT],
        )
        return Admitted(moved=int(moved), backlog=int(backlog))

    def admit_and_fetch(
        self, queue: str, consumer: FetchingConsumer, *, depth: int, fetch: int
    ) -> list[tuple[bytes, bytes | None]]:
        """A consumer's fetch in one round trip: acknowledge ``consumer.acked``, top the queue
        up to ``depth`` (as :meth:`admit`), take up to ``fetch`` ids into the consumer's ack
        set (as Dramatiq's fetch); returns ``(id, message data)`` pairs (data None when the
        body is missing)."""
        keys = self.keys(queue)
        fetching: list[str | int] = [consumer.worker_id, consumer.now_ms, max(0, fetch)]
        reply = self._admit(
            keys=[
                *(keys.tag, keys.ready, keys.msgs),
                *(keys.acks(consumer.worker_id), keys.beats),
            ],
            args=[max(0, depth), MAX_RELANES_PER_ADMIT, *fetching, *consumer.acked],
        )
        rest = reply[2:]
        return [(rest[i], rest[i + 1] or None) for i in range(0, len(rest), 2)]

    def set_weight(self, queue: str, org: str, weight: int) -> None:
        self.redis.hset(self.keys(queue).lane("weights"), org, weight)

    def depth(self, queue: str) -> LaneDepth:
        """Counts per state and the oldest laned job's age for one queue."""
        return self.depths([queue])[queue]

    def depths(self, queues: Sequence[str]) -> dict[str, LaneDepth]:
        """:meth:`depth` of many queues in one round trip (four O(1) reads per queue, and the
        server clock; on a cluster, whose pipelines refuse the keyless TIME, one more)."""
        clock_in_pipeline = not isinstance(self.redis, RedisCluster)
        pipe = self.redis.pipeline(transaction=False)
        if clock_in_pipeline:
            pipe.time()
        for queue in queues:
            keys = self.keys(queue)
            pipe.zcard(keys.lane("due"))
            pipe.zcard(keys.lane("waiting"))
            pipe.scard(keys.lane("active"))
            pipe.zrange(keys.lane("due"), 0, 0, withscores=True)
        replies = pipe.execute()
        seconds, micros = replies.pop(0) if clock_in_pipeline else self.redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        found = {}
        for index, queue in enumerate(queues):
            laned, waiting, orgs, oldest = replies[index * 4 : index * 4 + 4]
            age = max(0, now_ms - int(oldest[0][1])) if oldest else None
            found[queue] = LaneDepth(laned=laned, waiting=waiting, orgs=orgs, oldest_due_age_ms=age)
        return found


def _fresh_entry(message: dramatiq.Message[Any] | MessageProxy) -> tuple[str, bytes]:
    """A new entry id and the message data carrying it as its Redis message id."""
    entry_id = uuid.uuid4().hex
    return entry_id, message.copy(options={"redis_message_id": entry_id}).encode()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
