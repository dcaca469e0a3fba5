"""Enqueue: validate a job, deduplicate it by idempotency key, hand it to the broker.

Deduplication is one atomic ``SET NX EX`` in Redis: the first caller with a key within its
window claims it and its job id; later callers get that id back and enqueue nothing. If the
lane write fails after the claim, the claim is released so the caller can retry safely.

Accepted jobs go into their org's lane (:mod:`workers.lanes`), or its waiting set when
``not_before`` lies ahead; workers admit them into Dramatiq queues fairly across orgs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from redis import Redis

from providers.registry import Catalog
from workers.actors import actor_name, queue_for
from workers.envelope import (
    FieldError,
    InvalidJobError,
    JobEnvelope,
    Limits,
    envelope_to_dict,
    parse_envelope,
)
from workers.lanes import Lanes
from workers.metrics import JOBS_ENQUEUED, JOBS_REJECTED

# Release the claim only if it is still ours (another caller may hold it after expiry).
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"


@dataclass(frozen=True)
class Enqueued:
    """What the caller gets back: the job id, and whether it was a duplicate."""

    job_id: str
    duplicate: bool


class Enqueuer:
    """Accepts jobs for the broker. Thread-safe; one per process is enough."""

    def __init__(
        self,
        *,
        lanes: Lanes,
        redis: Redis,
        catalog: Catalog,
        limits: Limits,
        org_weight: Callable[[str], int | None],
        idempotency_window_seconds: int,
        namespace: str,
    ) -> None:
        self.lanes = lanes
        self.redis = redis
        self.catalog = catalog
        self.limits = limits
        self.org_weight = org_weight
        self.window = idempotency_window_seconds
        self.namespace = namespace

    def enqueue(self, data: Mapping[str, Any]) -> Enqueued:
        """Validate and enqueue one job; raises :class:`InvalidJobError` naming the fields."""
        job, weight = self._validate(data)
        labels = (queue_for(job.kind), job.kind.value, job.provider)
        claim = self._claim(job)
        if claim is not None:
            JOBS_ENQUEUED.labels(*labels, "duplicate").inc()
            return Enqueued(job_id=claim, duplicate=True)
        try:
            self._send(job, weight)
        except Exception:
            self._release(job)
            raise
        JOBS_ENQUEUED.labels(*labels, "accepted").inc()
        return Enqueued(job_id=job.id, duplicate=False)

    def _validate(self, data: Mapping[str, Any]) -> tuple[JobEnvelope, int]:
        try:
            job = parse_envelope(data, providers=self.catalog, limits=self.limits)
            weight = self.org_weight(job.org_id)
            if weight is None:
                unknown = FieldError("org_id", f"unknown organization {job.org_id!r}")
                raise InvalidJobError([unknown])
        except InvalidJobError as exc:
            JOBS_REJECTED.labels(exc.errors[0].field.split(".")[0]).inc()
            raise
        canonical = self.catalog.get(job.provider).name  # aliases ('qbo') become the name
        if canonical != job.provider:
            job = job.model_copy(update={"provider": canonical})
        return job, weight

    def _idempotency_key(self, job: JobEnvelope) -> str | None:
        if job.idempotency_key is None:
            return None
        digest = hashlib.sha256(job.idempotency_key.encode()).hexdigest()
        return f"{self.namespace}:idem:{job.org_id}:{digest}"

    def _claim(self, job: JobEnvelope) -> str | None:
        """None if this job now owns its key (or has none); else the first job's id."""
        key = self._idempotency_key(job)
        if key is None:
            return None
        for _ in range(3):
            if self.redis.set(key, job.id, nx=True, ex=self.window):
                return None
            existing = self.redis.get(key)
            if existing is not None:
                return existing.decode() if isinstance(existing, bytes) else str(existing)
        raise RuntimeError("idempotency claim kept expiring under contention")

    def _release(self, job: JobEnvelope) -> None:
        key = self._idempotency_key(job)
        if key is not None:
            self.redis.eval(_RELEASE, 1, key, job.id)

    def _send(self, job: JobEnvelope, weight: int) -> None:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_for(job.kind),
            actor_name=actor_name(job.kind),
            args=(envelope_to_dict(job),),
            kwargs={},
            options={},
            message_id=job.id,
        )
        self.lanes.push_message(
            message,
            org=job.org_id,
            priority=job.priority,
            weight=weight,
            delay_ms=_delay_ms(job.not_before),
        )


def _delay_ms(not_before: datetime | None) -> int:
    if not_before is None:
        return 0
    return max(0, int((not_before - datetime.now(UTC)).total_seconds() * 1000))
