"""Dramatiq's Redis broker, with consumers that admit from the lanes when they fetch.

A background pump topping queues up is a race consumers lose under load: a consumer finding
its queue empty is backed off by Dramatiq (up to ``worker_timeout``) although the lanes hold
thousands of jobs, and every process's consumers compete for one shallow queue. So a fetch
admits, by the fair and atomic script of :mod:`workers.lanes`, as many jobs as the consumer
has room for and takes them, in the same round trip. The queue is never deeper than one
fetch, and a busy worker never idles.

The consumer's keys are Switchyard's, not Dramatiq's: the ready list, message bodies, ack
sets, beats and dead set of a queue all live under the queue's hash tag (see
:mod:`queueing.keys`) — Dramatiq's own layout carries no tag, and its ``dispatch.lua`` builds
key names inside the script, which a Redis Cluster refuses. So every Redis operation a
consumer makes — fetch, ack, requeue, park — is ours; Dramatiq provides actors, middleware
and the worker process model. Delay queues (``<queue>.DQ``) stay empty: every wait lives in
the lanes' waiting sets, so fetching them costs nothing and enqueueing to them is refused.

Acknowledgements ride on the next fetch instead of costing a round trip each: a finished
job's id is kept in memory until its consumer fetches again — at once under load, within
``idle_poll_ms`` when idle or when long jobs hold its slots — or the worker shuts down. A
process killed in between leaves those jobs unacknowledged, and the recovery sweep
(:mod:`workers.recovery`) requeues them once its heartbeat lapses: the same at-least-once
delivery a kill mid-job gives, with a window of one fetch. Dramatiq's own maintenance (a
per-command dice roll) is off.

A fetch whose reply is lost (a master killed before answering, a timeout) leaves its ids in
the ack set of a worker that is alive, where the recovery sweep never looks; the broker's
ledger (:mod:`workers.fetch_ledger`) knows what it really holds and puts the rest back, at
the next fetch after an error and at least once a beat.

A consumer whose prefetch slots are all taken waits for finished jobs to free a quarter of
them (:class:`RoomWaitingConsumer`) rather than backing off blind, so fast jobs never leave
worker threads idle while the lanes are full. It also owns what Dramatiq's consumer drops:
a body that is not a job message is parked in the queue's dead set (imported into the
dead-letter table as ``undecodable``) instead of crashing the consumer and losing the rest
of its fetch, and at shutdown the fetched messages no worker thread took go back to the
queue.

A queue split into lane shards (:mod:`workers.lanes`) has all these keys per shard, under
the shard's tag. A fetch visits the shards in turn, starting one further each time, and
takes from each until the consumer's room is filled: under load each fetch fills from the
next shard in the rotation, so every shard is served every ``shards`` fetches and none
waits behind another's backlog; when idle, one fetch looks at every shard. A fetched
message carries the shard it came from (option ``lane_shard``), so its acknowledgement,
requeue or park goes to that shard's keys; kept acknowledgements ride on the next fetch of
their own shard.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed, DecodeError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from contract.metrics import FETCHES_RECLAIMED, RESCHEDULES_UNREPLICATED
from queueing import keys, scripts
from queueing.lane_push import SHARD_OPTION
from workers.bodies import decode_body
from workers.fetch_ledger import FetchLedger
from workers.lanes import FetchingConsumer, Lanes
from workers.recovery import beat_interval_ms
from workers.scheduling import handed_back

logger = logging.getLogger("switchyard.consumer")

# Dramatiq unpacks fetched ids onto the Lua stack; stay well below its limit.
MAX_FETCH = 1_000

Fetched = tuple[bytes, bytes | None, int]
"""One fetched message: its Redis id, its body (None when the body is missing), its shard."""


def shard_of_message(message: MessageProxy) -> int:
    """The lane shard a fetched message came from (its acks, requeue and park go there)."""
    return int(message.options.get(SHARD_OPTION, 0))


class RoomWaitingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, woken by finished jobs instead of backing off when full.

    Dramatiq's consumer, finding all its prefetch slots taken, sleeps with exponential
    backoff (5, 10, 20 … ms, up to ``worker_timeout``) — long enough for fast jobs to drain
    the threads' buffer and leave them idle. This one waits until a quarter of the slots are
    free (signalled by each ack), then fetches them in one go; only a fetch that finds the
    lanes empty backs off. Its cache holds ``(id, body)`` pairs, so a body that is not a
    message can be parked by id and a shutdown can hand the cache back.
    """

    broker: LaneFedBroker
    message_cache: list[Fetched]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)  # type: ignore[no-untyped-call]
        self._room = threading.Event()
        self._low_water = max(1, self.prefetch - max(1, self.prefetch // 4))

    def ack(self, message: MessageProxy) -> None:
        redis_id, shard = message.options["redis_message_id"], shard_of_message(message)
        try:
            if handed_back(message):  # its rescheduling failed: run it again, as fetched
                self.broker.do_requeue(self.queue_name, redis_id, shard=shard)
            else:
                self.broker.do_ack(self.queue_name, redis_id, shard=shard)
        except RedisConnectionError as exc:  # Dramatiq retries the ack until Redis answers
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
        self.queued_message_ids.discard(message.message_id)
        self._room.set()

    def nack(self, message: MessageProxy) -> None:
        redis_id, shard = message.options["redis_message_id"], shard_of_message(message)
        try:
            self.broker.do_nack(self.queue_name, redis_id, shard=shard)
        except RedisConnectionError as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
        finally:
            self.queued_message_ids.discard(message.message_id)
        self._room.set()

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        """Dramatiq's requeue at shutdown (messages its worker threads never took), per shard."""
        by_shard: defaultdict[int, list[str]] = defaultdict(list)
        for message in messages:
            by_shard[shard_of_message(message)].append(message.options["redis_message_id"])
        for shard, ids in by_shard.items():
            self.broker.do_requeue(self.queue_name, *ids, shard=shard)

    def __next__(self) -> MessageProxy | None:
        if not self.message_cache and self.outstanding_message_count > self._low_water:
            self._room.clear()
            while self.outstanding_message_count > self._low_water:
                if not self._room.wait(self.timeout / 1000):
                    # Long jobs hold the slots: send the acks of the short ones that ended.
                    self.broker.flush_acks(self.queue_name)
                    return None  # the worker loop runs, then asks again
                self._room.clear()
        try:
            return self._next_message()
        except RedisConnectionError as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Hand the fetched messages no worker thread took back to the queue."""
        by_shard: defaultdict[int, list[str]] = defaultdict(list)
        for redis_id, _, shard in self.message_cache:
            if redis_id:
                by_shard[shard].append(redis_id.decode())
        self.message_cache = []
        for shard, ids in by_shard.items():
            try:
                self.broker.do_requeue(self.queue_name, *ids, shard=shard)
            except RedisError:  # the next fetch from the shard reclaims them
                self.broker.abandon(self.queue_name, shard, ids)
                logger.warning(
                    "could not return %d fetched job(s) to %s", len(ids), self.queue_name
                )

    def _next_message(self) -> MessageProxy | None:
        message = self._take_cached()
        if message is not None:
            return message
        fetched = False
        if self.outstanding_message_count < self.prefetch:
            room = self.prefetch - self.outstanding_message_count
            self.message_cache = self.broker.do_fetch(self.queue_name, room)
            fetched = bool(self.message_cache)
            message = self._take_cached()
        if message is not None or fetched:  # a fetch of nothing but poison is no idle one
            self.misses = 0
            return message
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
        time.sleep(backoff_ms / 1000)
        return None

    def _take_cached(self) -> MessageProxy | None:
        while self.message_cache:
            redis_id, data, shard = self.message_cache.pop(0)
            message = self._decode(redis_id, data, shard)
            if message is not None:
                self.queued_message_ids.add(message.message_id)
                return message
        return None

    def _decode(self, redis_id: bytes, data: bytes | None, shard: int) -> MessageProxy | None:
        if data is None:  # acknowledged already (a late ack): the next reclaim drops the id
            self.broker.abandon(self.queue_name, shard, [redis_id.decode()])
            logger.warning("fetched id %r on %s has no body; skipped", redis_id, self.queue_name)
            return None
        try:
            message = decode_body(data, self.queue_name)
        except DecodeError as exc:
            if not redis_id:  # a delay queue's body (Switchyard never delays there)
                logger.error("undecodable message on %s dropped", self.queue_name)
                return None
            self.broker.park(self.queue_name, redis_id, shard=shard)
            logger.error(
                "message %s on %s is not a job message (%s); parked in the dead set",
                redis_id.decode(errors="replace"),
                self.queue_name,
                type(exc.error).__name__,  # never the body: it may hold anything
            )
            return None
        if redis_id:  # the id and shard it is stored under, whatever the body claims
            message.options["redis_message_id"] = redis_id.decode()
        if shard:
            message.options[SHARD_OPTION] = shard
        else:
            message.options.pop(SHARD_OPTION, None)
        return MessageProxy(message)


class LaneFedBroker(RedisBroker):
    """A :class:`RedisBroker` whose consumers admit from ``lanes`` as they fetch."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return RoomWaitingConsumer

    def __init__(self, *, lanes: Lanes, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self.lanes = lanes
        # Strays (see workers.fetch_ledger) go back within a beat, as a dead worker's would.
        self.ledger = FetchLedger(reclaim_every_ms=beat_interval_ms(self.heartbeat_timeout))
        self._rotation_lock = threading.Lock()
        self._next_shard: defaultdict[str, int] = defaultdict(int)
        self._requeue = scripts.register(self.client, "queue_requeue.lua")
        self._park = scripts.register(self.client, "queue_park.lua")
        self._reclaim = scripts.register(self.client, "queue_reclaim.lua")

    def declare_queue(self, queue_name: str) -> None:
        super().declare_queue(queue_name)
        # Counters at 0, not absent, until something happens (dashboards show a flat line).
        FETCHES_RECLAIMED.labels(queue=queue_name)
        RESCHEDULES_UNREPLICATED.labels(queue=queue_name)

    @property
    def lane_shards(self) -> int:
        """How many lane shards each queue has (the consumers visit them all)."""
        return self.lanes.shards

    def queue_keys(self, queue_name: str, shard: int = 0) -> keys.QueueKeys:
        return keys.QueueKeys(self.namespace, queue_name, shard)

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes) -> None:
        """Put a message straight on a queue (Dramatiq's ``enqueue``; Switchyard's producers
        push into the lanes instead)."""
        if "." in queue_name:
            raise ValueError(
                f"queue {queue_name!r}: Switchyard does not use Dramatiq's delay queues; "
                "push to the lanes with delay_ms instead"
            )
        queue = self.queue_keys(queue_name)
        pipe = self.client.pipeline(transaction=True)  # one tag: one slot, even on a cluster
        pipe.hset(queue.msgs, message_id, data)
        pipe.rpush(queue.ready, message_id)
        pipe.execute()

    def do_requeue(self, queue_name: str, *message_ids: str, shard: int = 0) -> None:
        """Hand fetched messages back to their queue shard (:file:`lua/queue_requeue.lua`)."""
        queue = self.queue_keys(queue_name, shard)
        self._requeue(keys=[queue.acks(self.broker_id), queue.ready, queue.msgs], args=message_ids)
        self.ledger.settled((queue_name, shard), message_ids)

    def abandon(self, queue_name: str, shard: int, message_ids: list[str]) -> None:
        """Fetched ids nobody here holds any more, which could not be handed back: the next
        fetch from their shard reclaims them (see :mod:`workers.fetch_ledger`)."""
        key = (queue_name, shard)
        self.ledger.settled(key, message_ids)
        self.ledger.doubt(key)

    def do_nack(self, queue_name: str, message_id: str, shard: int = 0) -> None:
        """Move a fetched message to its shard's dead set (see :file:`lua/queue_park.lua`)."""
        queue = self.queue_keys(queue_name, shard)
        dead, dead_msgs = queue.dead_set
        self._park(
            keys=[queue.acks(self.broker_id), queue.msgs, dead, dead_msgs],
            args=[message_id, current_millis()],
        )
        self.ledger.settled((queue_name, shard), [message_id])

    def do_qsize(self, queue_name: str) -> int:
        """Messages admitted to the queue and not yet acknowledged (ready or in flight)."""
        shards = self.lanes.all_keys(queue_name)
        return sum(int(self.client.hlen(queue.msgs)) for queue in shards)

    def do_purge(self, queue_name: str) -> None:
        """Drop the queue's admitted messages (Dramatiq's ``flush``; the lanes stay)."""
        for queue in self.lanes.all_keys(queue_name):
            for key in (queue.ready, queue.msgs, queue.acks(self.broker_id), *queue.dead_set):
                self.client.delete(key)  # one key per command: they may sit on any node

    def do_fetch(self, queue_name: str, prefetch: int) -> list[Fetched]:
        if "." in queue_name:  # a delay queue: always empty (see the module doc)
            return []
        room = min(prefetch, MAX_FETCH)
        shards = self.lanes.shards
        with self._rotation_lock:  # consumers of one queue in several threads share it
            start = self._next_shard[queue_name]
            self._next_shard[queue_name] = (start + 1) % shards
        fetched: list[Fetched] = []
        failed: RedisError | None = None
        for step in range(shards):
            shard = (start + step) % shards
            try:
                got = self._admit_and_fetch(queue_name, shard, depth=room, fetch=room)
            except RedisError as exc:  # e.g. its master failing over: the others still serve
                failed = exc
                continue
            fetched += [(redis_id, data, shard) for redis_id, data in got]
            room -= len(got)
            if room <= 0:
                break
        if failed is not None and not fetched:
            raise failed
        if failed is not None:  # never drop what other shards handed over: it is in our acks
            logger.warning("fetch from a shard of %s failed (%s)", queue_name, failed)
        return fetched

    def park(self, queue_name: str, redis_id: bytes, *, shard: int = 0) -> None:
        """Move a fetched message from our ack set to its shard's dead set (Dramatiq's nack),
        where the scheduler's dead-set import turns it into a dead job."""
        self.do_nack(queue_name, redis_id.decode(), shard)

    def do_ack(self, queue_name: str, message_id: str, shard: int = 0) -> None:
        """Keep the acknowledgement for the next fetch of its shard (see the module doc)."""
        if "." in queue_name:  # nothing is fetched from delay queues: nothing to acknowledge
            return
        self.ledger.keep_ack((queue_name, shard), message_id)

    def flush_acks(self, queue_name: str | None = None) -> None:
        """Send the kept acknowledgements (of one queue, or all) now: shutdown, broker close,
        or a consumer whose slots stay taken by long jobs."""
        for queue, shard in self.ledger.with_kept_acks(queue_name):
            self._admit_and_fetch(queue, shard, depth=0, fetch=0)

    def close(self) -> None:
        self.flush_acks()
        super().close()

    def _admit_and_fetch(
        self, queue_name: str, shard: int, *, depth: int, fetch: int
    ) -> list[tuple[bytes, bytes | None]]:
        key = (queue_name, shard)
        with self.ledger.fetch_lock(key):
            self._reclaim_strays(queue_name, shard)
            acked = self.ledger.take_acks(key)
            consumer = FetchingConsumer(
                worker_id=self.broker_id, now_ms=current_millis(), acked=acked
            )
            try:
                got = self.lanes.admit_and_fetch(
                    queue_name, consumer, depth=depth, fetch=fetch, shard=shard
                )
            except Exception:
                self.ledger.acks_unsent(key, acked)  # kept for the next try; shard in doubt
                raise
            self.ledger.acks_sent(key, acked)
            self.ledger.fetched(key, [redis_id.decode() for redis_id, _ in got])
            return got

    def _reclaim_strays(self, queue_name: str, shard: int) -> None:
        """After a call on the shard whose effect is unknown, put back what our ack set holds
        and we do not (:file:`lua/queue_reclaim.lua`)."""
        held = self.ledger.to_reclaim((queue_name, shard))
        if held is None:
            return
        queue = self.queue_keys(queue_name, shard)
        moved = int(
            self._reclaim(keys=[queue.acks(self.broker_id), queue.ready, queue.msgs], args=held)
        )
        self.ledger.reclaimed((queue_name, shard))
        if moved:
            FETCHES_RECLAIMED.labels(queue=queue_name).inc(moved)
            logger.warning(
                "reclaimed %d fetched job(s) on %s whose fetch reply was lost", moved, queue_name
            )
