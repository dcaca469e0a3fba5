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

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from redis import Redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from workers import scripts
from workers.keys import QueueKeys

MAX_RELANES_PER_ADMIT = 1_000
MAX_PUSHES_PER_CALL = 1_000  # lanes_push_many.lua's bound (Lua's unpack limit)
_LANED, _CLAIMED_BEFORE, _CANCELLED = 1, 2, 3  # lanes_push.lua's statuses (0: waiting)
_UNCLAIMED = ["", "", 0]
AlsoWrite = Callable[[Pipeline], None]
"""More writes (of other hash tags) to send in the same round trip as a push."""


class JobCancelled(Exception):
    """The push was refused: the job's cancel was asked (see :meth:`Lanes.cancel`)."""


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


@dataclass(frozen=True, slots=True)
class Encoded:
    """A message its producer encoded itself, as Dramatiq's encoder would, carrying
    ``entry_id`` as its Redis message id (see :func:`producers.enqueue.encoded`)."""

    queue_name: str
    entry_id: str
    data: bytes


@dataclass(frozen=True)
class Push:
    """One message for :meth:`Lanes.push_messages_once`, with its optional claim."""

    message: dramatiq.Message[Any] | Encoded
    claim: Claim | None
    org: str
    priority: int
    weight: int = 1
    delay_ms: int = 0
    entry_id: str | None = None
    """The lane entry's id (a fresh one when None)."""
    state: Sequence[Any] | None = None
    """The new job's initial state, written by the push script (``lanes_push.lua``'s
    ARGV[11..17], see :meth:`workers.job_state.JobStateStore.initial`)."""

    def args(self, *, padded: bool = False) -> list[Any]:
        """``lanes_push.lua``'s ARGV for a fresh entry of this message; ``padded``: always
        nine values, an empty claim standing for none (``lanes_push_many.lua``)."""
        if isinstance(self.message, Encoded):
            entry_id, data = self.message.entry_id, self.message.data
        else:
            entry_id, data = _fresh_entry(self.message, self.entry_id)
        args: list[Any] = [entry_id, data, self.org, self.priority, max(0, int(self.delay_ms))]
        args.append(self.weight)
        if self.claim is not None:
            args += [self.claim.key, self.claim.owner, self.claim.ttl_seconds]
        elif padded or self.state is not None:
            args += _UNCLAIMED
        if self.state is not None and not padded:
            args += ["", *self.state]  # ARGV[10]: no cancel check (a new job)
        return args


class Lanes:
    """The lane store of one Redis (one namespace); thread-safe."""

    def __init__(self, redis: Redis, namespace: str, durability: Durability | None = None) -> None:
        self.redis = redis
        self.namespace = namespace
        self.durability = durability or Durability()
        self._push = scripts.register(redis, "lanes_push.lua")
        self._push_many = scripts.register(redis, "lanes_push_many.lua")
        self._admit = scripts.register(redis, "lanes_admit.lua")
        self._cancel = scripts.register(redis, "lanes_cancel.lua")

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
        entry_id: str | None = None,
        job_id: str | None = None,
        also: AlsoWrite | None = None,
    ) -> bool:
        """Push a Dramatiq message as a new entry, with a fresh Redis message id (or
        ``entry_id``). With ``job_id``, raises :class:`JobCancelled` instead of pushing a
        job whose cancel was asked; ``also`` adds writes to the same round trip."""
        entry_id, data = _fresh_entry(message, entry_id)
        args: list[Any] = [entry_id, data, org, priority, delay_ms, weight]
        if job_id is not None:
            args += [*_UNCLAIMED, job_id]
        status, _ = self._run_push(message.queue_name, args, also)
        if status == _CANCELLED:
            raise JobCancelled(job_id)
        return status == _LANED

    def push_message_once(
        self,
        message: dramatiq.Message[Any] | Encoded,
        claim: Claim | None,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
        entry_id: str | None = None,
        also: AlsoWrite | None = None,
        state: Sequence[Any] | None = None,
    ) -> str | None:
        """:meth:`push_message` unless ``claim`` is already held: claim and push are one
        atomic step, so no crash can leave a claim whose job never landed. ``state``: the
        new job's initial state, written by the same script call (see :class:`Push`).

        Returns None when this call claimed the key (or had none) and pushed the message,
        else the id of the job holding the key (the message's own id if an earlier send of
        this very call already went through, e.g. a client-side retry after a lost reply).
        """
        push = Push(
            message,
            claim,
            org=org,
            priority=priority,
            weight=weight,
            delay_ms=delay_ms,
            entry_id=entry_id,
            state=state,
        )
        status, owner = self._run_push(message.queue_name, push.args(), also, durable=True)
        return _text(owner) if status == _CLAIMED_BEFORE else None

    def push_messages_once(
        self, pushes: Sequence[Push], also: AlsoWrite | None = None
    ) -> list[str | None]:
        """:meth:`push_message_once` for many messages: one ``lanes_push_many.lua`` call per
        queue and 1,000 messages (each atomic, within its queue's hash tag), answered in the
        pushes' order; ``also`` rides on the first call's round trip. A key repeated within
        the batch answers the id of the first job that claimed it. Pushes with a ``state``
        have it written by the same call (one JSON argument for the chunk)."""
        by_queue: dict[str, list[int]] = {}
        for index, push in enumerate(pushes):
            by_queue.setdefault(push.message.queue_name, []).append(index)
        owners: list[str | None] = [None] * len(pushes)
        for queue, indexes in by_queue.items():
            for start in range(0, len(indexes), MAX_PUSHES_PER_CALL):
                chunk = indexes[start : start + MAX_PUSHES_PER_CALL]
                args = [arg for index in chunk for arg in pushes[index].args(padded=True)]
                if any(pushes[index].state is not None for index in chunk):
                    args.append(json.dumps([pushes[index].state for index in chunk]))
                reply = self._eval(self._push_many, self.prefix(queue), args, also, durable=True)
                also = None
                for index, status, owner in zip(chunk, reply[::2], reply[1::2], strict=True):
                    owners[index] = _text(owner) if int(status) == _CLAIMED_BEFORE else None
        return owners

    def _run_push(
        self, queue: str, args: list[Any], also: AlsoWrite | None = None, *, durable: bool = False
    ) -> tuple[int, Any]:
        args[4] = max(0, int(args[4]))  # delay_ms
        status, owner = self._eval(self._push, self.prefix(queue), args, also, durable=durable)
        return int(status), owner

    def _eval(
        self,
        script: Script,
        key: str,
        args: list[Any],
        also: AlsoWrite | None,
        *,
        durable: bool = False,
    ) -> Any:
        """Run a lane script on ``key``'s tag, with ``also``'s writes in the same round trip
        (for a ``durable`` producer push that must reach replicas: right after it).

        EVALSHA by hand: redis-py's pipelined Script asks SCRIPT EXISTS first, a round trip
        of its own on every push. A NOSCRIPT reply (a restarted Redis) ran nothing, so the
        script is loaded and the whole round trip sent again (the other writes repeat
        harmlessly)."""
        if durable and self.durability.replicas:
            reply = self._run_durable(script, key, args)
            if also is not None:
                pipe = self.redis.pipeline(transaction=False)
                also(pipe)
                pipe.execute()
            return reply
        if also is None:
            return script(keys=[key], args=args)
        for attempt in (1, 2):
            pipe = self.redis.pipeline(transaction=False)
            pipe.evalsha(script.sha, 1, key, *args)
            also(pipe)
            try:
                reply, *_ = pipe.execute()
            except NoScriptError:
                if attempt == 2:
                    raise
                script.sha = self.redis.script_load(script.script)
                continue
            return reply
        raise AssertionError("unreachable")

    def _run_durable(self, script: Script, key: str, args: list[Any]) -> Any:
        """The push and a ``WAIT`` on one connection of the master holding the queue: WAIT
        counts the replicas that have this connection's writes, so it must follow the push
        on the same connection (a pool could hand it another)."""
        target: Redis = self.redis
        if isinstance(target, RedisCluster):
            target = target.get_node_from_key(key).redis_connection
        wanted, timeout_ms = self.durability.replicas, self.durability.timeout_ms
        pipe = target.pipeline(transaction=False)
        script(keys=[key], args=args, client=pipe)
        pipe.wait(wanted, timeout_ms)
        reply, confirmed = pipe.execute()
        statuses = [int(reply[0])] if script is self._push else [int(s) for s in reply[::2]]
        if any(s != _CLAIMED_BEFORE for s in statuses) and int(confirmed) < wanted:
            raise NotReplicated(
                f"{confirmed} of {wanted} replica(s) confirmed the job within {timeout_ms} ms"
            )
        return reply

    def cancel(self, queue: str, entry_id: str, job_id: str, *, remember_ms: int) -> bool:
        """Take a laned or waiting entry out, atomically with admission: True when taken
        (it never runs). Else the job was admitted (or is gone): its id is remembered for
        ``remember_ms`` and a later push of it raises :class:`JobCancelled`."""
        taken = self._cancel(keys=[self.prefix(queue)], args=[entry_id, job_id, remember_ms])
        return int(taken) == 1

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


def new_entry_id() -> str:
    """128 random bits as 32 hex digits (``uuid4().hex``'s shape; building no UUID object
    costs a producer a few microseconds per job)."""
    return os.urandom(16).hex()


def _fresh_entry(
    message: dramatiq.Message[Any] | MessageProxy, entry_id: str | None = None
) -> tuple[str, bytes]:
    """A new entry id (unless given) and the message data carrying it as its Redis message
    id (encoded by Dramatiq's encoder, from the message's fields: no intermediate copy)."""
    entry_id = entry_id or new_entry_id()
    data = message.asdict()
    data["options"] = {**data["options"], "redis_message_id": entry_id}
    return entry_id, dramatiq.get_encoder().encode(data)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
