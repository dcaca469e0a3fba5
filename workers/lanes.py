"""Per-(queue, org) lanes in Redis: where jobs wait before the Dramatiq queue.

Producers push into their org's lane; worker processes *admit* jobs round-robin across orgs
(weighted) into the Dramatiq queue, keeping it shallow, so one tenant's 100k backlog cannot
starve another tenant. Everything that waits — ``not_before``, retry backoff, rate-limit
deferrals — waits in the queue's ``waiting`` sorted set, scored by due time (Redis clock),
and returns to its lane when due; worker memory holds none of it.

Admission writes Dramatiq's own structures (its queue list and message hash) in the same
atomic script that takes the job from its lane, so a job is always in exactly one place and
a worker dying mid-admission loses or duplicates nothing. Each push is its own entry, whose
id is the Dramatiq message's Redis id (:meth:`Lanes.push_message` assigns a fresh one).
A producer's idempotency claim is taken by the push script itself
(:meth:`Lanes.push_message_once`), so a key is never held by a job that was not laned.
Lane keys of one queue, claims included, share one hash tag, ``{<namespace>:q:<queue>}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError

MAX_RELANES_PER_ADMIT = 1_000
MAX_PUSHES_PER_CALL = 1_000  # lanes_push_many.lua's bound (Lua's unpack limit)
_LANED, _CLAIMED_BEFORE, _CANCELLED = 1, 2, 3  # lanes_push.lua's statuses (0: waiting)
_UNCLAIMED = ["", "", 0]
AlsoWrite = Callable[[Pipeline], None]
"""More writes (of other hash tags) to send in the same round trip as a push."""


class JobCancelled(Exception):
    """The push was refused: the job's cancel was asked (see :meth:`Lanes.cancel`)."""


def _script(name: str) -> str:
    return files("workers").joinpath("lua", name).read_text()


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
    """Who fetches, in Dramatiq's Redis layout: its ack set, the heartbeats set, its id and
    clock, and the ids it finished since its last fetch (acknowledged by this fetch)."""

    ack_set: str
    heartbeats: str
    worker_id: str
    now_ms: int
    acked: Sequence[str] = ()


@dataclass(frozen=True)
class Claim:
    """An idempotency key claimed together with a push (see :meth:`Lanes.push_message_once`).

    ``key`` is already hashed and unique within its org and queue; ``owner`` (the job id) is
    what later callers with the same key get back, for ``ttl_seconds``.
    """

    key: str
    owner: str
    ttl_seconds: int


@dataclass(frozen=True)
class Push:
    """One message for :meth:`Lanes.push_messages_once`, with its optional claim."""

    message: dramatiq.Message[Any]
    claim: Claim | None
    org: str
    priority: int
    weight: int = 1
    delay_ms: int = 0
    entry_id: str | None = None
    """The lane entry's id (a fresh one when None)."""

    def args(self, *, padded: bool = False) -> list[Any]:
        """``lanes_push.lua``'s ARGV for a fresh entry of this message; ``padded``: always
        nine values, an empty claim standing for none (``lanes_push_many.lua``)."""
        entry_id, data = _fresh_entry(self.message, self.entry_id)
        args: list[Any] = [entry_id, data, self.org, self.priority, max(0, int(self.delay_ms))]
        args.append(self.weight)
        if self.claim is not None:
            args += [self.claim.key, self.claim.owner, self.claim.ttl_seconds]
        elif padded:
            args += _UNCLAIMED
        return args


class Lanes:
    """The lane store of one Redis (one namespace); thread-safe."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._push = redis.register_script(_script("lanes_push.lua"))
        self._push_many = redis.register_script(_script("lanes_push_many.lua"))
        self._admit = redis.register_script(_script("lanes_admit.lua"))
        self._cancel = redis.register_script(_script("lanes_cancel.lua"))

    def prefix(self, queue: str) -> str:
        """The hash-tagged key prefix of a queue's lanes."""
        return "{" + f"{self.namespace}:q:{queue}" + "}"

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
        Dramatiq's message hash. Returns True when the job is laned (due now), False when
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
        message: dramatiq.Message[Any],
        claim: Claim | None,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
        entry_id: str | None = None,
        also: AlsoWrite | None = None,
    ) -> str | None:
        """:meth:`push_message` unless ``claim`` is already held: claim and push are one
        atomic step, so no crash can leave a claim whose job never landed.

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
        )
        status, owner = self._run_push(message.queue_name, push.args(), also)
        return _text(owner) if status == _CLAIMED_BEFORE else None

    def push_messages_once(
        self, pushes: Sequence[Push], also: AlsoWrite | None = None
    ) -> list[str | None]:
        """:meth:`push_message_once` for many messages: one ``lanes_push_many.lua`` call per
        queue and 1,000 messages (each atomic, within its queue's hash tag), answered in the
        pushes' order; ``also`` rides on the first call's round trip. A key repeated within
        the batch answers the id of the first job that claimed it."""
        by_queue: dict[str, list[int]] = {}
        for index, push in enumerate(pushes):
            by_queue.setdefault(push.message.queue_name, []).append(index)
        owners: list[str | None] = [None] * len(pushes)
        for queue, indexes in by_queue.items():
            for start in range(0, len(indexes), MAX_PUSHES_PER_CALL):
                chunk = indexes[start : start + MAX_PUSHES_PER_CALL]
                args = [arg for index in chunk for arg in pushes[index].args(padded=True)]
                reply = self._eval(self._push_many, self.prefix(queue), args, also)
                also = None
                for index, status, owner in zip(chunk, reply[::2], reply[1::2], strict=True):
                    owners[index] = _text(owner) if int(status) == _CLAIMED_BEFORE else None
        return owners

    def _run_push(
        self, queue: str, args: list[Any], also: AlsoWrite | None = None
    ) -> tuple[int, Any]:
        args[4] = max(0, int(args[4]))  # delay_ms
        status, owner = self._eval(self._push, self.prefix(queue), args, also)
        return int(status), owner

    def _eval(self, script: Script, key: str, args: list[Any], also: AlsoWrite | None) -> Any:
        """Run a lane script on ``key``'s tag, with ``also``'s writes in the same round trip.

        EVALSHA by hand: redis-py's pipelined Script asks SCRIPT EXISTS first, a round trip
        of its own on every push. A NOSCRIPT reply (a restarted Redis) ran nothing, so the
        script is loaded and the whole round trip sent again (the other writes repeat
        harmlessly)."""
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

    def cancel(self, queue: str, entry_id: str, job_id: str, *, remember_ms: int) -> bool:
        """Take a laned or waiting entry out, atomically with admission: True when taken
        (it never runs). Else the job was admitted (or is gone): its id is remembered for
        ``remember_ms`` and a later push of it raises :class:`JobCancelled`."""
        taken = self._cancel(keys=[self.prefix(queue)], args=[entry_id, job_id, remember_ms])
        return int(taken) == 1

    def admit(self, queue: str, depth: int) -> Admitted:
        """Top Dramatiq's ``queue`` up to ``depth`` ready messages, fairly across orgs.

        Dramatiq's Redis layout is ``<namespace>:<queue>`` (ids) and ``…:<queue>.msgs``.
        """
        base = f"{self.namespace}:{queue}"
        moved, backlog = self._admit(
            keys=[self.prefix(queue), base, base + ".msgs"],
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
        base = f"{self.namespace}:{queue}"
        fetching: list[str | int] = [consumer.worker_id, consumer.now_ms, max(0, fetch)]
        reply = self._admit(
            keys=[self.prefix(queue), base, base + ".msgs", consumer.ack_set, consumer.heartbeats],
            args=[max(0, depth), MAX_RELANES_PER_ADMIT, *fetching, *consumer.acked],
        )
        rest = reply[2:]
        return [(rest[i], rest[i + 1] or None) for i in range(0, len(rest), 2)]

    def set_weight(self, queue: str, org: str, weight: int) -> None:
        self.redis.hset(self.prefix(queue) + ":weights", org, weight)

    def depth(self, queue: str) -> LaneDepth:
        """Counts per state and the oldest laned job's age for one queue."""
        return self.depths([queue])[queue]

    def depths(self, queues: Sequence[str]) -> dict[str, LaneDepth]:
        """:meth:`depth` of many queues in one round trip (five O(1) reads per queue)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.time()
        for queue in queues:
            p = self.prefix(queue)
            pipe.zcard(p + ":due")
            pipe.zcard(p + ":waiting")
            pipe.scard(p + ":active")
            pipe.zrange(p + ":due", 0, 0, withscores=True)
        (seconds, micros), *replies = pipe.execute()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        found = {}
        for index, queue in enumerate(queues):
            laned, waiting, orgs, oldest = replies[index * 4 : index * 4 + 4]
            age = max(0, now_ms - int(oldest[0][1])) if oldest else None
            found[queue] = LaneDepth(laned=laned, waiting=waiting, orgs=orgs, oldest_due_age_ms=age)
        return found


def new_entry_id() -> str:
    return uuid.uuid4().hex


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
