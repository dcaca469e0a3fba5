"""Enqueue: validate a job, deduplicate it by idempotency key, hand it to the broker.

Deduplication claims the key (``SET NX EX``) inside the same Redis script that writes the
job into its lane: the first caller with a key within its window claims it for its job id and
lanes the job, later callers get that id back and enqueue nothing. Claim and push being one
atomic step, a producer killed at any point leaves either nothing (the caller's retry enqueues
the job) or a claimed job that runs — never a claim whose job never existed. A key is scoped
to its org and its kind's queue (the claim lives under the queue's hash tag, beside the lane).

Accepted jobs go into their org's lane (:mod:`queueing.lane_push`), or its waiting set when
``not_before`` lies ahead; workers admit them into Dramatiq queues fairly across orgs. The
job's state (:mod:`queueing.job_state`) is written in the same round trip as the push.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq

from contract.envelope import (
    FieldError,
    InvalidJobError,
    JobEnvelope,
    Limits,
    envelope_to_dict,
    parse_envelope,
)
from contract.metrics import JOBS_ENQUEUED, JOBS_REJECTED
from contract.names import actor_name, queue_for
from producers.orgs import OrgRef, OrgResolver, require_org
from providers.registry import Catalog
from queueing.job_state import JobStateStore, now_ms
from queueing.lane_push import AlsoWrite, Claim, LanePushes, Push, new_entry_id

MAX_BATCH = 1_000
"""Most jobs one :meth:`Enqueuer.enqueue_many` call (and ``POST /v1/jobs:batch``) takes."""


@dataclass(frozen=True)
class Enqueued:
    """What the caller gets back: the job id, and whether it was a duplicate."""

    job_id: str
    duplicate: bool


BatchResult = Enqueued | InvalidJobError
"""One item of :meth:`Enqueuer.enqueue_many`: the job accepted (or deduplicated), or why not."""


class Enqueuer:
    """Accepts jobs for the broker. Thread-safe; one per process is enough. ``door`` checks
    a job against the worker's declarations (:class:`producers.door.Door`)."""

    def __init__(
        self,
        *,
        lanes: LanePushes,
        catalog: Catalog,
        limits: Limits,
        orgs: OrgResolver,
        idempotency_window_seconds: int,
        door: Callable[[JobEnvelope], list[FieldError]],
        states: JobStateStore | None = None,
    ) -> None:
        self.lanes = lanes
        self.states = states
        self.catalog = catalog
        self.limits = limits
        self.orgs = orgs
        self.window = idempotency_window_seconds
        self.door = door

    def org_id(self, org: str) -> str:
        """The id of the org with this id or unique name; :class:`InvalidJobError` naming
        ``org_id`` when there is none or the name is ambiguous."""
        return require_org(self.orgs, org).id

    def enqueue(self, data: Mapping[str, Any]) -> Enqueued:
        """Validate and enqueue one job; raises :class:`InvalidJobError` naming the fields."""
        job, org = self._validate(data)
        push = self._push(job, org)
        first = self.lanes.push_message_once(
            push.message,
            push.claim,
            org=push.org,
            priority=push.priority,
            weight=push.weight,
            delay_ms=push.delay_ms,
            entry_id=push.entry_id,
            also=self._created([(job, push)]),
        )
        return self._counted(job, first)

    def enqueue_many(self, items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        """Validate every job, enqueue the valid ones in one pipelined round trip; answers
        per item, in order: :class:`Enqueued`, or the :class:`InvalidJobError` refusing it.
        More than :data:`MAX_BATCH` items is refused as a whole (``ValueError``)."""
        if len(items) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} jobs, not {len(items)}")
        results: list[BatchResult | None] = []
        valid: list[tuple[int, JobEnvelope, Push]] = []
        for index, data in enumerate(items):
            try:
                job, org = self._validate(data)
            except InvalidJobError as exc:
                results.append(exc)
                continue
            results.append(None)
            valid.append((index, job, self._push(job, org)))
        pushes = [push for _, _, push in valid]
        created = self._created([(job, push) for _, job, push in valid])
        owners = self.lanes.push_messages_once(pushes, also=created) if valid else []
        answers = self._counted_many(
            [(job, first) for (_, job, _), first in zip(valid, owners, strict=True)]
        )
        for (index, _, _), answer in zip(valid, answers, strict=True):
            results[index] = answer
        return [r for r in results if r is not None]

    def _validate(self, data: Mapping[str, Any]) -> tuple[JobEnvelope, OrgRef]:
        try:
            job = parse_envelope(data, providers=self.catalog, limits=self.limits)
            org = require_org(self.orgs, job.org_id)
            errors = self.door(job)
            if errors:
                raise InvalidJobError(errors)
        except InvalidJobError as exc:
            JOBS_REJECTED.labels(exc.errors[0].field.split(".")[0]).inc()
            raise
        update: dict[str, str] = {}
        canonical = self.catalog.get(job.provider).name  # aliases ('qbo') become the name
        if canonical != job.provider:
            update["provider"] = canonical
        if org.id != job.org_id:
            update["org_id"] = org.id  # a name becomes the id the job carries
        return (job.model_copy(update=update) if update else job), org

    def _claim(self, job: JobEnvelope) -> Claim | None:
        if job.idempotency_key is None:
            return None
        digest = hashlib.sha256(job.idempotency_key.encode()).hexdigest()
        return Claim(key=digest, owner=job.id, ttl_seconds=self.window)

    def _push(self, job: JobEnvelope, org: OrgRef) -> Push:
        """Where the job goes: its org's lane, at its priority, or the waiting set until due."""
        return Push(
            _message(job),
            self._claim(job),
            org=org.id,
            priority=job.priority,
            weight=org.weight,
            delay_ms=_delay_ms(job.not_before),
            entry_id=new_entry_id(),
        )

    def _created(self, pushed: Sequence[tuple[JobEnvelope, Push]]) -> AlsoWrite | None:
        """The state writes of jobs being pushed, for the push's round trip."""
        states = self.states
        if states is None:
            return None
        at = now_ms()
        fields = [
            (job.id, initial_state(job, push.entry_id or "", push.delay_ms, at))
            for job, push in pushed
        ]

        def write(pipe: Any) -> None:
            states.add_created_many(pipe, fields)

        return write

    def _counted(self, job: JobEnvelope, first: str | None) -> Enqueued:
        """:meth:`_answer`, counted."""
        answer = self._answer(job, first)
        JOBS_ENQUEUED.labels(*_labels(job), _outcome(answer)).inc()
        return answer

    def _counted_many(self, sent: Sequence[tuple[JobEnvelope, str | None]]) -> list[Enqueued]:
        """:meth:`_answer` for each sent job, counted once per label set (not per job)."""
        answers = [self._answer(job, first) for job, first in sent]
        counts = Counter(
            (*_labels(job), _outcome(a)) for (job, _), a in zip(sent, answers, strict=True)
        )
        for labels, count in counts.items():
            JOBS_ENQUEUED.labels(*labels).inc(count)
        return answers

    def _answer(self, job: JobEnvelope, first: str | None) -> Enqueued:
        """The answer for a sent job (``first``: the id already holding its key); a
        duplicate's state, written beside the refused push, is taken back (not a job)."""
        if first is not None and first != job.id:
            if self.states is not None:
                self.states.forget(job.id, job.org_id)
            return Enqueued(job_id=first, duplicate=True)
        return Enqueued(job_id=job.id, duplicate=False)


def _labels(job: JobEnvelope) -> tuple[str, str, str]:
    return queue_for(job.kind), job.kind.value, job.provider


def _outcome(answer: Enqueued) -> str:
    return "duplicate" if answer.duplicate else "accepted"


def _message(job: JobEnvelope) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue_for(job.kind),
        actor_name=actor_name(job.kind),
        args=(envelope_to_dict(job),),
        kwargs={},
        options={},
        message_id=job.id,
    )


def initial_state(
    job: JobEnvelope, entry_id: str, delay_ms: int, at: int | None = None
) -> dict[str, Any]:
    """The state hash of a job just laned (queued) or put to wait for ``not_before``
    (``at``: the enqueue time, now unless given)."""
    at = now_ms() if at is None else at
    fields: dict[str, Any] = {
        "org": job.org_id,
        "kind": job.kind.value,
        "provider": job.provider,
        "queue": queue_for(job.kind),
        "entry": entry_id,
        "state": "queued",
        "enqueued_at": at,
        "updated_at": at,
    }
    name = _named(job)
    if name is not None:
        fields[name[0]] = name[1]
    if job.notify:
        fields["notify"] = True
    if delay_ms > 0:
        fields.update(state="waiting", wait_reason="not_before", wait_until=at + delay_ms)
    return fields


def _named(job: JobEnvelope) -> tuple[str, str] | None:
    """The job's action or sync model, as its state field: fields left unset (no name,
    zero attempts, no ``notify``) are not written (readers default them), fewer per HSET."""
    for field in ("action", "model"):
        value = getattr(job.payload, field, None)
        if value is not None:
            return field, str(value)
    return None


def _delay_ms(not_before: datetime | None) -> int:
    if not_before is None:
        return 0
    return max(0, int((not_before - datetime.now(UTC)).total_seconds() * 1000))
