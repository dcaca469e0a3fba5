"""Enqueue: validate a job, deduplicate it by idempotency key, hand it to the broker.

Deduplication claims the key (``SET NX EX``) inside the same Redis script that writes the
job into its lane: the first caller with a key within its window claims it for its job id and
lanes the job, later callers get that id back and enqueue nothing. Claim and push being one
atomic step, a producer killed at any point leaves either nothing (the caller's retry enqueues
the job) or a claimed job that runs — never a claim whose job never existed. A key is scoped
to its org and its kind's queue (the claim lives under the queue's hash tag, beside the lane).

Accepted jobs go into their org's lane (:mod:`workers.lanes`), or its waiting set when
``not_before`` lies ahead; workers admit them into Dramatiq queues fairly across orgs. The
job's state (:mod:`workers.job_state`) is written in the same round trip as the push.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq

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
from workers.job_state import JobStateStore, now_ms
from workers.lanes import Claim, Lanes, new_entry_id
from workers.metrics import JOBS_ENQUEUED, JOBS_REJECTED


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
        catalog: Catalog,
        limits: Limits,
        org_weight: Callable[[str], int | None],
        idempotency_window_seconds: int,
        states: JobStateStore | None = None,
    ) -> None:
        self.lanes = lanes
        self.states = states
        self.catalog = catalog
        self.limits = limits
        self.org_weight = org_weight
        self.window = idempotency_window_seconds

    def enqueue(self, data: Mapping[str, Any]) -> Enqueued:
        """Validate and enqueue one job; raises :class:`InvalidJobError` naming the fields."""
        job, weight = self._validate(data)
        labels = (queue_for(job.kind), job.kind.value, job.provider)
        first = self._send(job, weight)
        if first is not None and first != job.id:
            if self.states is not None:  # written beside the refused push: not a job
                self.states.forget(job.id, job.org_id)
            JOBS_ENQUEUED.labels(*labels, "duplicate").inc()
            return Enqueued(job_id=first, duplicate=True)
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

    def _claim(self, job: JobEnvelope) -> Claim | None:
        if job.idempotency_key is None:
            return None
        digest = hashlib.sha256(job.idempotency_key.encode()).hexdigest()
        return Claim(key=digest, owner=job.id, ttl_seconds=self.window)

    def _send(self, job: JobEnvelope, weight: int) -> str | None:
        """Lane the job; None when done, else the id of the job already holding its key."""
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_for(job.kind),
            actor_name=actor_name(job.kind),
            args=(envelope_to_dict(job),),
            kwargs={},
            options={},
            message_id=job.id,
        )
        entry_id, delay_ms = new_entry_id(), _delay_ms(job.not_before)
        states = self.states
        fields = initial_state(job, entry_id, delay_ms)
        return self.lanes.push_message_once(
            message,
            self._claim(job),
            org=job.org_id,
            priority=job.priority,
            weight=weight,
            delay_ms=delay_ms,
            entry_id=entry_id,
            also=None if states is None else lambda pipe: states.add_created(pipe, job.id, fields),
        )


def initial_state(job: JobEnvelope, entry_id: str, delay_ms: int) -> dict[str, Any]:
    """The state hash of a job just laned (queued) or put to wait for ``not_before``."""
    at = now_ms()
    payload = job.payload
    fields: dict[str, Any] = {
        "org": job.org_id,
        "kind": job.kind.value,
        "provider": job.provider,
        "action": getattr(payload, "action", None),
        "model": getattr(payload, "model", None),
        "queue": queue_for(job.kind),
        "entry": entry_id,
        "state": "queued",
        "attempts": 0,
        "notify": job.notify,
        "enqueued_at": at,
        "updated_at": at,
    }
    if delay_ms > 0:
        fields.update(state="waiting", wait_reason="not_before", wait_until=at + delay_ms)
    return fields


def _delay_ms(not_before: datetime | None) -> int:
    if not_before is None:
        return 0
    return max(0, int((not_before - datetime.now(UTC)).total_seconds() * 1000))
