"""Where a job's state lives in Redis: beside its queue's lanes, for a retention window.

Every key name of job tracking is built here and nowhere else, from the :class:`QueueKeys`
of the job's queue (and, with sharded lanes, the org's shard):

  ``<queue tag>:job:<id>``     hash: the job's state (fields below), expiring after retention
  ``<queue tag>:jobs:<org>``   zset: the org's job ids in that queue by enqueue time (ms)
  ``<queue tag>:cancelled``    zset: job ids whose cancel was asked while they ran

All three sit under the queue's hash tag, so the lane push script writes a job's initial
state and its index entry in the same atomic call that lanes it (``lanes_push.lua``,
``lanes_push_many.lua``): enqueue costs no command outside that one script call. Worker
transitions are batched by :class:`StateWriter` (the worker knows the queue and org from
the message). A lookup by id probes the queues that may hold it (:meth:`JobStateStore.locate`:
one pipelined round trip); :meth:`JobStateKeys.queue_keys` is the one place that chooses
an org's shard. State written under the keys of earlier versions (``{<ns>:job:<id>}``,
``{<ns>:jobs:<org>}``) is no longer read: it expires with the retention window.

Hash fields (strings; times are epoch milliseconds): ``org kind provider action model entry
state attempts cancel notify wait_reason wait_until retry_attempt retry_next_at error_class
dead_reason dead_job_id result enqueued_at started_at finished_at updated_at``; readers add
``queue`` (where the hash was found). ``entry`` is the lane entry id of the job's latest
push: what a cancel removes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from queueing.keys import QueueKeys, queue_shards, shard_of

logger = logging.getLogger("switchyard.job_state")

STATES = ("queued", "waiting", "running", "retrying", "succeeded", "dead", "cancelled")
FINISHED = frozenset({"succeeded", "dead", "cancelled"})
QUEUES = ("refresh", "sync", "action", "deliver", "inbound")
"""Every queue a job may be in (one per kind: ``workers.actors.queue_for``)."""
CANCELLED_SUFFIX = ":cancelled"
"""Appended to a queue's lane prefix (see :meth:`workers.lanes.Lanes.prefix`)."""
RESULT_MAX_ITEMS = 8
RESULT_MAX_TEXT = 200
FLUSH_INTERVAL_S = 0.02
FLUSH_MAX = 500
MAX_PENDING = 100_000
"""Writes kept while Redis refuses them; past this the oldest go (logged): a long Redis
outage must not grow a worker's memory without bound. The jobs themselves are unaffected."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class JobRef:
    """Which job, and where its state lives: its queue and its org (which picks the shard)."""

    queue: str
    org: str
    job_id: str


class Listed(NamedTuple):
    """One entry of an org's index: the job, its enqueue time (ms), its queue."""

    job_id: str
    at: int
    queue: str


class JobStateKeys:
    """The key names of job tracking in one namespace."""

    def __init__(self, namespace: str, shards: int = 1) -> None:
        self.namespace = namespace
        self.shards = shards
        self._queues: dict[tuple[str, int], QueueKeys] = {}

    def queue_keys(self, queue: str, org_id: str) -> QueueKeys:
        """THE place an org's shard of a queue is chosen: the lane keys its jobs are pushed
        under, hence where their state lives: the org's lane shard (:func:`queueing.keys.shard_of`),
        as the producer's push chose it (``Lanes.shard_of``) for the same queue and org."""
        place = (queue, shard_of(org_id, self.shards))
        found = self._queues.get(place)
        if found is None:  # built once per queue and shard: the worker path asks per transition
            found = self._queues[place] = QueueKeys(self.namespace, *place)
        return found

    def all_queue_keys(self, queue: str) -> list[QueueKeys]:
        """Every shard's keys of a queue: where a job of an unknown org may be (admin)."""
        return queue_shards(self.namespace, queue, self.shards)

    def candidates(self, org_id: str | None) -> list[QueueKeys]:
        """Every place a job of ``org_id`` (any org when None) may have its state."""
        if org_id is None:
            return [qk for queue in QUEUES for qk in self.all_queue_keys(queue)]
        return [self.queue_keys(queue, org_id) for queue in QUEUES]

    def job(self, ref: JobRef) -> str:
        return job_key(self.queue_keys(ref.queue, ref.org), ref.job_id)

    def org_index(self, queue: str, org_id: str) -> str:
        return org_index_key(self.queue_keys(queue, org_id), org_id)

    @staticmethod
    def cancelled(lane_prefix: str) -> str:
        return lane_prefix + CANCELLED_SUFFIX


def job_key(queue: QueueKeys, job_id: str) -> str:
    """``<queue tag>:job:<id>`` (the push scripts build the same name in Lua)."""
    return queue.lane("job:" + job_id)


def org_index_key(queue: QueueKeys, org_id: str) -> str:
    """``<queue tag>:jobs:<org>`` (the push scripts build the same name in Lua)."""
    return queue.lane("jobs:" + org_id)


RESULT_KEYS = frozenset({"ok", "id", "status", "count", "created", "updated"})
"""Result fields a summary keeps (and any ``*_id``): identifiers and outcomes, never data
that could carry a secret or personal details."""
_result: ContextVar[str | None] = ContextVar("switchyard_job_result", default=None)


def small_result(result: Any) -> str | None:
    """A result summary safe to keep: a few scalar id/outcome fields, short (JSON)."""
    if not isinstance(result, Mapping):
        return None
    kept: dict[str, str | int | bool | None] = {}
    for key, value in result.items():
        name = str(key)
        if len(kept) >= RESULT_MAX_ITEMS or not _summary_key(name):
            continue
        if isinstance(value, bool | int) or value is None:
            kept[name] = value
        elif isinstance(value, str):
            kept[name] = value[:RESULT_MAX_TEXT]
    return json.dumps(kept) if kept else None


def record_result(result: Any) -> None:
    """Keep the summary of what the running job's handler returned (worker thread)."""
    _result.set(small_result(result))


def take_result() -> str | None:
    """The summary :func:`record_result` kept in this thread, cleared."""
    summary = _result.get()
    _result.set(None)
    return summary


def _summary_key(name: str) -> bool:
    return len(name) <= 64 and (name in RESULT_KEYS or name.endswith("_id"))


class JobStateStore:
    """Reads and writes job state hashes; thread-safe (one Redis client)."""

    def __init__(self, redis: Redis, namespace: str, *, retention_s: int, shards: int = 1) -> None:
        self.redis = redis
        self.keys = JobStateKeys(namespace, shards)
        self.retention_s = retention_s

    def initial(
        self, job_id: str, kind: str, provider: str, name: tuple[str, str] | None, notify: bool
    ) -> tuple[int | str, ...]:
        """The state a push script writes for a new job (``lanes_push.lua``'s ARGV[11..17]):
        the retention, the job id, its kind and provider, its action or model (field and
        value, '' when none) and ``notify`` ('1' or ''). The script adds org, entry, state
        (queued, or waiting for ``not_before``) and the times, from its own clock."""
        field, value = name or ("", "")
        return (self.retention_s, job_id, kind, provider, field, value, "1" if notify else "")

    def add_created(self, pipe: Pipeline, ref: JobRef, fields: Mapping[str, Any]) -> None:
        """Queue the writes of a job state made outside a push (seeding, tests): the hash
        and its index entry at ``enqueued_at``, the same keys the push scripts write."""
        self.add_update(pipe, ref, {"org": ref.org, **fields})
        index = self.keys.org_index(ref.queue, ref.org)
        pipe.zadd(index, {ref.job_id: int(fields["enqueued_at"])})
        pipe.expire(index, self.retention_s)

    def add_update(self, pipe: Pipeline, ref: JobRef, fields: Mapping[str, Any]) -> None:
        """Queue one transition's writes on ``pipe``: HSET and EXPIRE (two commands)."""
        key = self.keys.job(ref)
        pipe.hset(key, mapping={k: _text(v) for k, v in fields.items()})
        pipe.expire(key, self.retention_s)

    def update(self, ref: JobRef, fields: Mapping[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        self.add_update(pipe, ref, fields)
        pipe.execute()

    def locate(self, org_id: str | None, job_id: str) -> tuple[JobRef, dict[str, str]] | None:
        """Find a job's state from its id: every queue the org's jobs may be in (every queue
        and shard for None, an admin) probed in one pipelined round trip. Returns where it
        is and its fields (with ``queue``), or None when unknown to that org or expired."""
        places = self.keys.candidates(org_id)
        pipe = self.redis.pipeline(transaction=False)
        for place in places:
            pipe.hgetall(job_key(place, job_id))
        for place, raw in zip(places, pipe.execute(), strict=True):
            if raw and b"state" in raw:
                fields = _decoded(raw)
                if org_id is None or fields.get("org") == org_id:
                    fields["queue"] = place.queue
                    return JobRef(place.queue, fields.get("org", ""), job_id), fields
        return None

    def get(self, job_id: str, org_id: str | None = None) -> dict[str, str] | None:
        """The job's fields (:meth:`locate`), or None."""
        found = self.locate(org_id, job_id)
        return found[1] if found else None

    def get_many(self, org_id: str, listed: Sequence[Listed]) -> list[dict[str, str] | None]:
        """The fields of listed jobs of ``org_id`` (one round trip), None for expired ones."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id, _, queue in listed:
            pipe.hgetall(self.keys.job(JobRef(queue, org_id, job_id)))
        found: list[dict[str, str] | None] = []
        for (_, _, queue), raw in zip(listed, pipe.execute(), strict=True):
            fields = _decoded(raw) if raw and b"state" in raw else None
            if fields is not None:
                fields["queue"] = queue
            found.append(fields)
        return found

    def recent_ids(self, org_id: str, *, before_ms: int | None, count: int) -> list[Listed]:
        """The org's job ids across its queues, newest first (equal times: highest id
        first), enqueued at or before ``before_ms``: one round trip, which on a listing's
        first page also trims the indexes to the retention (the push scripts trim too)."""
        top = "+inf" if before_ms is None else before_ms
        pipe = self.redis.pipeline(transaction=False)
        indexes = [(queue, self.keys.org_index(queue, org_id)) for queue in QUEUES]
        for _, index in indexes:
            if before_ms is None:
                pipe.zremrangebyscore(index, "-inf", now_ms() - self.retention_s * 1000)
            pipe.zrevrangebyscore(index, top, "-inf", start=0, num=count, withscores=True)
        replies = pipe.execute()
        if before_ms is None:
            replies = replies[1::2]
        merged = [
            Listed(_text(member), int(score), queue)
            for (queue, _), found in zip(indexes, replies, strict=True)
            for member, score in found
        ]
        merged.sort(key=lambda item: (item.at, item.job_id), reverse=True)
        return merged[:count]


class StateWriter:
    """Batches the worker path's state writes: one pipeline per flush, not one round trip
    per transition. A background thread flushes every ``interval_s`` (or at ``max_batch``
    pending writes); shutdown flushes the rest. Writes for one job keep their order, and a
    job's writes within one flush are merged into one (a job that started and ended within
    ``interval_s`` costs one HSET and one EXPIRE)."""

    def __init__(
        self,
        store: JobStateStore,
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        max_batch: int = FLUSH_MAX,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.max_batch = max_batch
        self._pending: list[tuple[JobRef, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False

    def put(self, ref: JobRef, fields: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append((ref, fields))
            full = len(self._pending) >= self.max_batch
            closed = self._closed
            if self._thread is None and not closed:
                self._start()
        if closed:  # a job ending after shutdown began: written at once, not left behind
            self.flush()
        elif full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything pending now (one round trip); on a Redis error they are kept."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        merged: dict[JobRef, dict[str, Any]] = {}
        for ref, fields in batch:  # a fast job's start and end: one HSET, one EXPIRE
            merged.setdefault(ref, {}).update(fields)
        pipe = self.store.redis.pipeline(transaction=False)
        for ref, fields in merged.items():
            self.store.add_update(pipe, ref, fields)
        try:
            pipe.execute()
        except RedisError as exc:
            logger.warning("job state writes delayed (%d): %s", len(batch), exc)
            with self._lock:
                self._pending[:0] = batch
                dropped = len(self._pending) - MAX_PENDING
                if dropped > 0:
                    del self._pending[:dropped]
            if dropped > 0:
                logger.error("%d job state writes dropped: Redis refuses them", dropped)

    def close(self) -> None:
        """Stop the thread and write what is pending; later puts are written at once."""
        self._closed = True
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self.flush()

    def _start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="job-state-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self.flush()
        with self._lock:
            self._thread = None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def _decoded(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}
