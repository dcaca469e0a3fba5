"""What one broker fetched and has not yet settled, per queue shard.

A fetch moves ids into the broker's ack set on Redis and returns them; when the reply is
lost (the connection dropped, the master was killed after running the script, a timeout)
the ids sit in an ack set whose worker is alive and beating, so the recovery sweep, which
only looks at lapsed workers, never returns them: the jobs would wait for the worker's
restart. redis-py also re-sends a command whose connection failed (its default retries, on
a cluster after refreshing the slot map), so such a fetch may even succeed the second time
without the broker seeing any error.

The ledger remembers which ids the process really holds (fetched, not yet acknowledged,
parked or handed back *on Redis*); before a fetch from a shard that had a call fail, and
otherwise every ``reclaim_every_ms``, the broker puts back every id in its ack set of that
shard which it does not hold (:file:`lua/queue_reclaim.lua`).

It also keeps the acknowledgements that ride on the next fetch (see
:mod:`workers.lane_broker`): an id stays held until the fetch carrying its ack succeeded.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

ShardKey = tuple[str, int]
"""A queue name and one of its lane shards."""


class FetchLedger:
    """Held ids, kept acknowledgements and doubtful shards of one broker; thread-safe."""

    def __init__(self, reclaim_every_ms: int) -> None:
        self._reclaim_every_s = reclaim_every_ms / 1000
        self._last_reclaim: defaultdict[ShardKey, float] = defaultdict(time.monotonic)
        self._lock = threading.Lock()
        self._held: defaultdict[ShardKey, set[str]] = defaultdict(set)
        self._acks: defaultdict[ShardKey, list[str]] = defaultdict(list)
        self._doubtful: set[ShardKey] = set()
        self._fetch_locks: defaultdict[ShardKey, threading.Lock] = defaultdict(threading.Lock)

    def fetch_lock(self, key: ShardKey) -> threading.Lock:
        """Held around a shard's reclaim and fetch: ids a fetch returned are recorded
        before any reclaim of that shard can look at the ack set."""
        with self._lock:
            return self._fetch_locks[key]

    def fetched(self, key: ShardKey, ids: Iterable[str]) -> None:
        with self._lock:
            self._held[key].update(ids)

    def settled(self, key: ShardKey, ids: Iterable[str]) -> None:
        """Ids no longer in the ack set on Redis (parked, handed back)."""
        with self._lock:
            self._held[key].difference_update(ids)

    def keep_ack(self, key: ShardKey, message_id: str) -> None:
        with self._lock:
            self._acks[key].append(message_id)

    def take_acks(self, key: ShardKey) -> list[str]:
        with self._lock:
            return self._acks.pop(key, [])

    def acks_sent(self, key: ShardKey, ids: Iterable[str]) -> None:
        self.settled(key, ids)

    def acks_unsent(self, key: ShardKey, ids: list[str]) -> None:
        """A fetch carrying these acks failed: keep them (first) for the next one, and doubt
        the shard (the fetch may have run and lost only its reply)."""
        with self._lock:
            self._acks[key][:0] = ids
            self._doubtful.add(key)

    def with_kept_acks(self, queue_name: str | None = None) -> list[ShardKey]:
        """The shards (of one queue, or all) with acknowledgements waiting to be sent."""
        with self._lock:
            return [k for k, ids in self._acks.items() if ids and queue_name in (None, k[0])]

    def doubt(self, key: ShardKey) -> None:
        """A call on the shard's ack set failed, and may or may not have run."""
        with self._lock:
            self._doubtful.add(key)

    def to_reclaim(self, key: ShardKey) -> list[str] | None:
        """The ids held from the shard (all others in its ack set are strays) when it is in
        doubt or due for its periodic reclaim; else None."""
        with self._lock:
            due = time.monotonic() - self._last_reclaim[key] >= self._reclaim_every_s
            if not due and key not in self._doubtful:
                return None
            return list(self._held[key])

    def reclaimed(self, key: ShardKey) -> None:
        with self._lock:
            self._doubtful.discard(key)
            self._last_reclaim[key] = time.monotonic()
