"""Dramatiq's Redis broker, with consumers that admit from the lanes when they fetch.

A background pump topping queues up is a race consumers lose under load: a consumer finding
its queue empty is backed off by Dramatiq (up to ``worker_timeout``) although the lanes hold
thousands of jobs, and every process's consumers compete for one shallow queue. So a fetch
admits, by the fair and atomic script of :mod:`workers.lanes`, as many jobs as the consumer
has room for and takes them, in the same round trip. The queue is never deeper than one
fetch, and a busy worker never idles.

Acknowledgements ride on the next fetch instead of costing a round trip each: a finished
job's id is kept in memory until its consumer fetches again — at once under load, within
``idle_poll_ms`` when idle or when long jobs hold its slots — or the worker shuts down. A
process killed in between leaves those jobs unacknowledged, and Dramatiq's maintenance
requeues them once the heartbeat lapses: the same at-least-once delivery a kill mid-job
gives, with a window of one fetch.

And a consumer whose prefetch slots are all taken waits for finished jobs to free a quarter
of them (:class:`RoomWaitingConsumer`) rather than backing off blind, so fast jobs never
leave worker threads idle while the lanes are full.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis

from workers.lanes import FetchingConsumer, Lanes

# Dramatiq unpacks fetched ids onto the Lua stack; stay well below its limit.
MAX_FETCH = 1_000


class RoomWaitingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, woken by finished jobs instead of backing off when full.

    Dramatiq's consumer, finding all its prefetch slots taken, sleeps with exponential
    backoff (5, 10, 20 … ms, up to ``worker_timeout``) — long enough for fast jobs to drain
    the threads' buffer and leave them idle. This one waits until a quarter of the slots are
    free (signalled by each ack), then fetches them in one go; only a fetch that finds the
    lanes empty backs off.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)  # type: ignore[no-untyped-call]
        self._room = threading.Event()
        self._low_water = max(1, self.prefetch - max(1, self.prefetch // 4))

    def ack(self, message: MessageProxy) -> None:
        super().ack(message)  # type: ignore[no-untyped-call]
        self._room.set()

    def nack(self, message: MessageProxy) -> None:
        super().nack(message)  # type: ignore[no-untyped-call]
        self._room.set()

    def __next__(self) -> MessageProxy | None:
        if not self.message_cache and self.outstanding_message_count > self._low_water:
            self._room.clear()
            while self.outstanding_message_count > self._low_water:
                if not self._room.wait(self.timeout / 1000):
                    # Long jobs hold the slots: send the acks of the short ones that ended.
                    self.broker.flush_acks(self.queue_name)
                    return None  # the worker loop runs, then asks again
                self._room.clear()
        message: MessageProxy | None = super().__next__()  # type: ignore[no-untyped-call]
        return message


class LaneFedBroker(RedisBroker):
    """A :class:`RedisBroker` whose consumers admit from ``lanes`` as they fetch."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return RoomWaitingConsumer

    def __init__(self, *, lanes: Lanes, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self.lanes = lanes
        self._acks_lock = threading.Lock()
        self._acks: defaultdict[str, list[str]] = defaultdict(list)

    def do_fetch(self, queue_name: str, prefetch: int) -> list[Any]:
        if "." in queue_name:  # delay queues have no lanes (Switchyard never delays there)
            return self._dispatch_fetch(queue_name, prefetch)
        count = min(prefetch, MAX_FETCH)
        if self._should_do_maintenance("fetch"):
            # Dramatiq's fetch carries its maintenance (requeueing dead workers' jobs).
            self._admit_and_fetch(queue_name, depth=count, fetch=0)
            return self._dispatch_fetch(queue_name, count)
        return self._admit_and_fetch(queue_name, depth=count, fetch=count)

    def do_ack(self, queue_name: str, message_id: str) -> None:
        """Keep the acknowledgement for the next fetch of this queue (see the module doc)."""
        if "." in queue_name:
            self._dispatch("ack")(queue_name, message_id)  # type: ignore[no-untyped-call]
            return
        with self._acks_lock:
            self._acks[queue_name].append(message_id)

    def flush_acks(self, queue_name: str | None = None) -> None:
        """Send the kept acknowledgements (of one queue, or all) now: shutdown, broker close,
        or a consumer whose slots stay taken by long jobs."""
        with self._acks_lock:
            queues = [q for q, ids in self._acks.items() if ids and queue_name in (None, q)]
        for queue in queues:
            self._admit_and_fetch(queue, depth=0, fetch=0)

    def close(self) -> None:
        self.flush_acks()
        super().close()

    def _admit_and_fetch(self, queue_name: str, *, depth: int, fetch: int) -> list[Any]:
        with self._acks_lock:
            acked = self._acks.pop(queue_name, [])
        consumer = FetchingConsumer(
            ack_set=f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}",
            heartbeats=f"{self.namespace}:__heartbeats__",
            worker_id=self.broker_id,
            now_ms=current_millis(),
            acked=acked,
        )
        try:
            return self.lanes.admit_and_fetch(queue_name, consumer, depth=depth, fetch=fetch)
        except Exception:
            with self._acks_lock:  # not sent: keep them for the next try
                self._acks[queue_name][:0] = acked
            raise

    def _dispatch_fetch(self, queue_name: str, count: int) -> list[Any]:
        fetched: list[Any] = self._dispatch("fetch")(queue_name, count)  # type: ignore[no-untyped-call]
        return fetched
