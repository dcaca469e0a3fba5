"""The producer side of the lanes: pushing jobs in, with idempotency claims and durability.

Every push runs ``lanes_push.lua`` (or ``lanes_push_many.lua`` for a batch) on the tag of the
job's lane shard, :func:`queueing.keys.shard_of` its org: an org's lane, idempotency claims
and cancel memory all live in that one shard, so each push stays one atomic script of one
hash tag. A producer's idempotency claim is taken by the push script itself
(:meth:`LanePushes.push_message_once`), so a key is never held by a job that was not laned.
:class:`workers.lanes.Lanes` inherits these methods; this module holds them so the lane store
(admission, cancel, depth) and the push paths each stay one concern.
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
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from queueing.keys import QueueKeys, shard_of
from queueing.replication import Durability, shortfall, write_on_replicas

MAX_PUSHES_PER_CALL = 1_000  # lanes_push_many.lua's bound (Lua's unpack limit)
_LANED, _CLAIMED_BEFORE, _CANCELLED = 1, 2, 3  # lanes_push.lua's statuses (0: waiting)
_UNCLAIMED = ["", "", 0]
SHARD_OPTION = "lane_shard"
"""The message option naming the lane shard a consumer fetched it from (absent: shard 0)."""
AlsoWrite = Callable[[Pipeline], None]
"""More writes (of other hash tags) to send in the same round trip as a push."""


class JobCancelled(Exception):
    """The push was refused: the job's cancel was asked (see :meth:`Lanes.cancel`)."""


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
    ARGV[11..17], see :meth:`queueing.job_state.JobStateStore.initial`)."""

    def args(self) -> list[Any]:
        """``lanes_push.lua``'s ARGV for a fresh entry of this message."""
        entry_id, data = self.entry()
        args: list[Any] = [entry_id, data, self.org, self.priority, max(0, int(self.delay_ms))]
        args.append(self.weight)
        if self.claim is not None:
            args += [self.claim.key, self.claim.owner, self.claim.ttl_seconds]
        elif self.state is not None:
            args += _UNCLAIMED
        if self.state is not None:
            args += ["", *self.state]  # ARGV[10]: no cancel check (a new job)
        return args

    def head(self, entry_id: str) -> list[Any]:
        """This push's entry in ``lanes_push_many.lua``'s JSON ARGV[1] (its data goes apart)."""
        claim = self.claim
        return [
            entry_id,
            self.org,
            self.priority,
            max(0, int(self.delay_ms)),
            self.weight,
            *((claim.key, claim.owner, claim.ttl_seconds) if claim else _UNCLAIMED),
            self.state,
        ]

    def entry(self) -> tuple[str, bytes]:
        """The lane entry id and the message data carrying it."""
        if isinstance(self.message, Encoded):
            return self.message.entry_id, self.message.data
        return _fresh_entry(self.message, self.entry_id)


class LanePushes:
    """The push methods of :class:`workers.lanes.Lanes` (see the module doc), with the key
    choice they need: which shard an org's jobs go to, and that shard's prefix."""

    redis: Redis
    namespace: str
    shards: int
    durability: Durability
    _push: Script
    _push_many: Script

    def keys(self, queue: str, shard: int = 0) -> QueueKeys:
        return QueueKeys(self.namespace, queue, shard)

    def prefix(self, queue: str, shard: int = 0) -> str:
        """The hash-tagged key prefix of one shard of a queue's lanes."""
        return self.keys(queue, shard).tag

    def shard_of(self, org: str) -> int:
        """The lane shard holding ``org``'s jobs (:func:`queueing.keys.shard_of`)."""
        return shard_of(org, self.shards)

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
        args: list[Any] = [entry_id, data, org, priority, delay_ms, weight]
        status, _ = self._run_push(queue, args)
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
        job whose cancel was asked; ``also`` adds writes to the same round trip.

        Durable like a producer's push (:class:`Durability`): a worker reschedules a job
        with this and then acknowledges the fetched message, and an acknowledgement that
        reaches a promoted replica which never got the push would lose the job. It raises
        :class:`NotReplicated` when the replicas did not confirm in time."""
        entry_id, data = _fresh_entry(message, entry_id)
        args: list[Any] = [entry_id, data, org, priority, delay_ms, weight]
        if job_id is not None:
            args += [*_UNCLAIMED, job_id]
        status, _ = self._run_push(message.queue_name, args, also, durable=True)
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
        lane shard and 1,000 messages (each atomic, within the shard's hash tag), answered in the
        pushes' order; ``also`` rides on the first call's round trip. A key repeated within
        the batch answers the id of the first job that claimed it. Pushes with a ``state``
        have it written by the same call."""
        by_shard: dict[str, list[int]] = {}
        for index, push in enumerate(pushes):
            prefix = self.prefix(push.message.queue_name, self.shard_of(push.org))
            by_shard.setdefault(prefix, []).append(index)
        owners: list[str | None] = [None] * len(pushes)
        for prefix, indexes in by_shard.items():
            for start in range(0, len(indexes), MAX_PUSHES_PER_CALL):
                chunk = indexes[start : start + MAX_PUSHES_PER_CALL]
                args = _many_args([pushes[index] for index in chunk])
                reply = self._eval(self._push_many, prefix, args, also, durable=True)
                also = None
                claimed = iter(reply[1:])  # the owners of the '2' statuses, in order
                for index, status in zip(chunk, _text(reply[0]), strict=True):
                    owners[index] = _text(next(claimed)) if status == "2" else None
        return owners

    def _run_push(
        self, queue: str, args: list[Any], also: AlsoWrite | None = None, *, durable: bool = False
    ) -> tuple[int, Any]:
        args[4] = max(0, int(args[4]))  # delay_ms
        prefix = self.prefix(queue, self.shard_of(str(args[2])))  # args[2]: the org
        status, owner = self._eval(self._push, prefix, args, also, durable=durable)
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
        """The push, confirmed by the replicas (:func:`write_on_replicas`)."""
        (reply,), confirmed = write_on_replicas(
            self.redis,
            key,
            self.durability,
            lambda pipe: script(keys=[key], args=args, client=pipe),
        )
        statuses = [int(reply[0])] if script is self._push else [int(s) for s in _text(reply[0])]
        if any(s != _CLAIMED_BEFORE for s in statuses) and confirmed < self.durability.replicas:
            raise shortfall(self.durability, confirmed, "the job")
        return reply


def _many_args(pushes: Sequence[Push]) -> list[Any]:
    """``lanes_push_many.lua``'s ARGV: one JSON array of the pushes' heads, then their data."""
    entries = [push.entry() for push in pushes]
    heads = [push.head(entry_id) for push, (entry_id, _) in zip(pushes, entries, strict=True)]
    return [json.dumps(heads, separators=(",", ":")), *(data for _, data in entries)]


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
    options = {k: v for k, v in data["options"].items() if k != SHARD_OPTION}
    data["options"] = {**options, "redis_message_id": entry_id}
    return entry_id, dramatiq.get_encoder().encode(data)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
