"""Where a job's state lives in Redis, found from its id alone, for a retention window.

Every key name of job tracking is built here and nowhere else:

  ``{<ns>:job:<id>}``        hash: the job's state (fields below), expiring after retention
  ``{<ns>:jobs:<org>}``      zset: the org's job ids by enqueue time (ms), for listing
  ``<lane prefix>:cancelled`` zset: job ids whose cancel was asked while they ran, under the
                             queue's hash tag so the lane scripts see it atomically

Each key sits under its own hash tag (Redis Cluster): the state hash is written with plain
commands in the same pipeline as the write a transition already makes (the push at enqueue)
or batched by :class:`StateWriter` (transitions on the worker path), never inside a lane
script, which may only touch its queue's keys.

Hash fields (strings; times are epoch milliseconds): ``org kind provider action model queue
entry state attempts cancel notify wait_reason wait_until retry_attempt retry_next_at
error_class dead_reason dead_job_id result enqueued_at started_at finished_at updated_at``.
``entry`` is the lane entry id of the job's latest push: what a cancel removes.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from queueing import keys

logger = logging.getLogger("switchyard.job_state")

STATES = ("queued", "waiting", "running", "retrying", "succeeded", "dead", "cancelled")
FINISHED = frozenset({"succeeded", "dead", "cancelled"})
CANCELLED_SUFFIX = ":cancelled"
"""Appended to a queue's lane prefix (see :meth:`workers.lanes.Lanes.prefix`)."""
RESULT_MAX_ITEMS = 8
RESULT_MAX_TEXT = 200
TRIM_EVERY = 64
"""An org index is trimmed on one enqueue in this many, and on every listing's first page:
entries past the retention stay few, and listings skip their expired hashes anyway."""
FLUSH_INTERVAL_S = 0.02
FLUSH_MAX = 500
MAX_PENDING = 100_000
"""Writes kept while Redis refuses them; past this the oldest go (logged): a long Redis
outage must not grow a worker's memory without bound. The jobs themselves are unaffected."""


def now_ms() -> int:
    return int(time.time() * 1000)


class JobStateKeys:
    """The key names of job tracking in one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def job(self, job_id: str) -> str:
        return keys.job_state(self.namespace, job_id)

    def org_index(self, org_id: str) -> str:
        return keys.org_jobs(self.namespace, org_id)

    @staticmethod
    def cancelled(lane_prefix: str) -> str:
        return lane_prefix + CANCELLED_SUFFIX


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

    def __init__(self, redis: Redis, namespace: str, *, retention_s: int) -> None:
        self.redis = redis
        self.keys = JobStateKeys(namespace)
        self.retention_s = retention_s

    def add_created(self, pipe: Pipeline, job_id: str, fields: Mapping[str, Any]) -> None:
        """Queue the writes of a new job's state on ``pipe`` (see :meth:`add_created_many`)."""
        self.add_created_many(pipe, [(job_id, fields)])

    def add_created_many(
        self, pipe: Pipeline, created: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Queue the writes of new jobs' states on ``pipe``: per job its hash and the hash's
        expiry; per org once, the index's ZADD of all its jobs and its expiry (and, one call
        in :data:`TRIM_EVERY`, the index's trim). A batch costs two commands per job."""
        by_org: dict[str, dict[str, int]] = {}
        for job_id, fields in created:
            self.add_update(pipe, job_id, fields)
            by_org.setdefault(str(fields["org"]), {})[job_id] = int(fields["enqueued_at"])
        for org_id, members in by_org.items():
            index = self.keys.org_index(org_id)
            pipe.zadd(index, members)
            pipe.expire(index, self.retention_s)  # the index goes with its org's last job
            if random.randrange(TRIM_EVERY) == 0:
                self.add_trim(pipe, org_id, max(members.values()))

    def add_trim(self, pipe: Pipeline, org_id: str, now: int) -> None:
        """Drop index entries older than the retention."""
        pipe.zremrangebyscore(self.keys.org_index(org_id), "-inf", now - self.retention_s * 1000)

    def add_update(self, pipe: Pipeline, job_id: str, fields: Mapping[str, Any]) -> None:
        """Queue one transition's writes on ``pipe``: HSET and EXPIRE (two commands)."""
        key = self.keys.job(job_id)
        pipe.hset(key, mapping={k: _text(v) for k, v in fields.items()})
        pipe.expire(key, self.retention_s)

    def forget(self, job_id: str, org_id: str) -> None:
        """Drop the state of a job that was not laned after all (a repeated key)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self.keys.job(job_id))
        pipe.zrem(self.keys.org_index(org_id), job_id)
        pipe.execute()

    def update(self, job_id: str, fields: Mapping[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        self.add_update(pipe, job_id, fields)
        pipe.execute()

    def get(self, job_id: str) -> dict[str, str] | None:
        raw = self.redis.hgetall(self.keys.job(job_id))
        return _decoded(raw) if raw and b"state" in raw else None

    def get_many(self, job_ids: Sequence[str]) -> list[dict[str, str] | None]:
        pipe = self.redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hgetall(self.keys.job(job_id))
        return [_decoded(r) if r and b"state" in r else None for r in pipe.execute()]

    def recent_ids(
        self, org_id: str, *, before_ms: int | None, count: int
    ) -> list[tuple[str, int]]:
        """The org's job ids, newest first, enqueued at or before ``before_ms``."""
        top = "+inf" if before_ms is None else before_ms
        if before_ms is None:  # a listing's first page keeps the index trimmed
            pipe = self.redis.pipeline(transaction=False)
            self.add_trim(pipe, org_id, now_ms())
            pipe.execute()
        found: list[tuple[Any, float]] = self.redis.zrevrangebyscore(  # type: ignore[assignment]
            self.keys.org_index(org_id), top, "-inf", start=0, num=count, withscores=True
        )
        return [(_text(member), int(score)) for member, score in found]


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
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False

    def put(self, job_id: str, fields: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append((job_id, fields))
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
        merged: dict[str, dict[str, Any]] = {}
        for job_id, fields in batch:  # a fast job's start and end: one HSET, one EXPIRE
            merged.setdefault(job_id, {}).update(fields)
        pipe = self.store.redis.pipeline(transaction=False)
        for job_id, fields in merged.items():
            self.store.add_update(pipe, job_id, fields)
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
