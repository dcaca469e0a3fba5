"""Enqueue: validate a job, deduplicate it by idempotency key, hand it to the broker.

Deduplication claims the key (``SET NX EX``) inside the same Redis script that writes the
job into its lane: the first caller with a key within its window claims it for its job id and
lanes the job, later callers get that id back and enqueue nothing. Claim and push being one
atomic step, a producer killed at any point leaves either nothing (the caller's retry enqueues
the job) or a claimed job that runs — never a claim whose job never existed. A key is scoped
to its org and its kind's queue (the claim lives under the queue's hash tag, beside the lane).

Accepted jobs go into their org's lane (:mod:`queueing.lane_push`), or its waiting set when
``not_before`` lies ahead; workers admit them into Dramatiq queues fairly across orgs. The
job's initial state (:mod:`queueing.job_state`) is written by the push script itself, under
the queue's hash tag: one script call per job (``enqueue``) or per queue and 1,000 jobs
(``enqueue_many``), and no other command.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import pydantic_core
from dramatiq.encoder import JSONEncoder

from contract.envelope import (
    FieldError,
    InvalidJobError,
    JobEnvelope,
    Kind,
    Limits,
    envelope_to_dict,
    parse_envelope,
)
from contract.metrics import JOBS_ENQUEUED, JOBS_REJECTED
from contract.names import actor_name, queue_for
from producers.orgs import OrgRef, OrgResolver, require_org
from providers.registry import Catalog
from queueing.job_state import JobStateStore
from queueing.lane_push import Claim, Encoded, LanePushes, Push, new_entry_id

_DRAMATIQ_JSON = json.JSONEncoder(separators=(",", ":")).encode
"""What ``dramatiq.encoder.JSONEncoder`` runs (``json.dumps`` with these separators)."""
MAX_BATCH = 1_000
"""Most jobs one :meth:`Enqueuer.enqueue_many` call (and ``POST /v1/jobs:batch``) takes."""


@dataclass(frozen=True)
class Enqueued:
    """What the caller gets back: the job id, and whether it was a duplicate."""

    job_id: str
    duplicate: bool


BatchResult = Enqueued | InvalidJobError
"""One item of :meth:`Enqueuer.enqueue_many`: the job accepted (or deduplicated), or why not."""


Sent = tuple[str, Kind, str]
"""A sent job's id, kind and provider: what its answer and its metrics need."""


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
            state=push.state,
        )
        return self._counted((job.id, job.kind, job.provider), first)

    def enqueue_many(self, items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        """Validate every job, enqueue the valid ones in one pipelined round trip; answers
        per item, in order: :class:`Enqueued`, or the :class:`InvalidJobError` refusing it.
        More than :data:`MAX_BATCH` items is refused as a whole (``ValueError``)."""
        if len(items) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} jobs, not {len(items)}")
        results: list[BatchResult | None] = []
        valid: list[tuple[int, Sent, Push]] = []
        for index, data in enumerate(items):
            try:
                job, org = self._validate(data)
            except InvalidJobError as exc:
                results.append(exc)
                continue
            results.append(None)
            # Only the job's identity is kept past here: its validated model is freed at once
            # rather than outliving a batch's garbage collections (fewer full collections).
            valid.append((index, (job.id, job.kind, job.provider), self._push(job, org)))
        pushes = [push for _, _, push in valid]
        owners = self.lanes.push_messages_once(pushes) if valid else []
        answers = self._counted_many(
            [(sent, first) for (_, sent, _), first in zip(valid, owners, strict=True)]
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
        entry_id = new_entry_id()
        return Push(
            encoded(job, entry_id),
            self._claim(job),
            org=org.id,
            priority=job.priority,
            weight=org.weight,
            delay_ms=_delay_ms(job.not_before),
            entry_id=entry_id,
            state=self._state(job),
        )

    def _state(self, job: JobEnvelope) -> tuple[int | str, ...] | None:
        """The job's initial state for the push script (None: state tracking is off)."""
        if self.states is None:
            return None
        return self.states.initial(job.id, job.kind.value, job.provider, _named(job), job.notify)

    def _counted(self, sent: Sent, first: str | None) -> Enqueued:
        """:func:`_answer`, counted."""
        return self._counted_many([(sent, first)])[0]

    def _counted_many(self, sent: Sequence[tuple[Sent, str | None]]) -> list[Enqueued]:
        """:func:`_answer` for each sent job, counted once per label set (not per job)."""
        answers = [_answer(job_id, first) for (job_id, _, _), first in sent]
        counts = Counter(
            (kind, provider, answer.duplicate)
            for ((_, kind, provider), _), answer in zip(sent, answers, strict=True)
        )
        for (kind, provider, duplicate), count in counts.items():
            outcome = "duplicate" if duplicate else "accepted"
            JOBS_ENQUEUED.labels(queue_for(kind), kind.value, provider, outcome).inc(count)
        return answers


def _answer(job_id: str, first: str | None) -> Enqueued:
    """The answer for a sent job (``first``: the id already holding its key; the push
    script wrote no state for a duplicate)."""
    if first is not None and first != job_id:
        return Enqueued(job_id=first, duplicate=True)
    return Enqueued(job_id=job_id, duplicate=False)


def encoded(job: JobEnvelope, entry_id: str) -> Encoded | dramatiq.Message[Any]:
    """The job's Dramatiq message, encoded here: JSON that decodes to what Dramatiq's default
    encoder writes for ``dramatiq.Message(...).asdict()`` with ``redis_message_id`` set (the
    worker decodes it identically: tested), without building the message object and its
    copies; the envelope is serialized by pydantic's own JSON writer, the frame around it
    is of fixed, safe fields (enum names, hex ids, a number). With another encoder
    configured: the message object, encoded by that encoder at push."""
    queue, actor, at = queue_for(job.kind), actor_name(job.kind), int(time.time() * 1000)
    if type(dramatiq.get_encoder()) is not JSONEncoder:
        return dramatiq.Message(queue, actor, (envelope_to_dict(job),), {}, {}, job.id, at)
    try:  # what envelope_to_dict keeps, NaN and Infinity written as json.dumps writes them
        envelope = pydantic_core.to_json(
            job, exclude=None if job.notify else {"notify"}, inf_nan_mode="constants"
        )
    except pydantic_core.PydanticSerializationError:  # e.g. a lone surrogate in a string
        envelope = _DRAMATIQ_JSON(envelope_to_dict(job)).encode()
    data = _FRAME % (
        queue.encode(),
        actor.encode(),
        envelope,
        entry_id.encode(),
        job.id.encode(),
        at,
    )
    return Encoded(queue, entry_id, data)


_FRAME = (
    b'{"queue_name":"%s","actor_name":"%s","args":[%s],"kwargs":{},'
    b'"options":{"redis_message_id":"%s"},"message_id":"%s","message_timestamp":%d}'
)


def _named(job: JobEnvelope) -> tuple[str, str] | None:
    """The job's action or sync model, as its state field (none for other kinds)."""
    for field in ("action", "model"):
        value = getattr(job.payload, field, None)
        if value is not None:
            return field, str(value)
    return None


def _delay_ms(not_before: datetime | None) -> int:
    if not_before is None:
        return 0
    return max(0, int((not_before - datetime.now(UTC)).total_seconds() * 1000))
