"""Ordered endpoints (concurrency 1) hand over: the next delivery starts when one ends.

A delivery whose older sibling is still pending *parks* (:mod:`workers.webhooks.parking`)
and its job ends, instead of re-checking on a timer. When a delivery of the endpoint ends
(delivered or failed), the oldest pending delivery is woken: the one waker that *takes* it
from the parked set owns its job (same job id, so its round and attempt count carry on).
After a delivery, the waker runs it at once in the same thread (:func:`run_chain`, no trip
through the queue); after a failure, or once the chain has run ``CHAIN_SECONDS``, it
enqueues it (:func:`hand_back`).

Races: a parking job re-reads whether its predecessor is still pending *after* parking, and a
settling job wakes *after* committing, so one of the two always sees the other; if both do,
the atomic take decides who goes. Crashes: a waker is always inside the job that started
the chain, whose message stays unacknowledged; killed, that job is redelivered, finds its
own delivery settled, and re-enqueues what it had taken (:func:`recover`) and wakes the
next delivery if the wake never happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from contract.envelope import DeliverJob, DeliverPayload
from contract.metrics import WEBHOOK_ORDERED_HANDOVERS
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.types import utcnow
from workers.context import WorkerContext
from workers.errors import retry_after_of
from workers.webhooks.parking import ParkedDeliveries

log = logging.getLogger("switchyard.webhooks")
#: How long one job may go on delivering the woken successors of an ordered endpoint.
CHAIN_SECONDS = 5.0


def parked(context: WorkerContext) -> ParkedDeliveries:
    return ParkedDeliveries(context.redis, context.namespace, context.lanes.durability)


@dataclass(frozen=True)
class NextDelivery:
    """The endpoint's oldest pending delivery, as needed to enqueue its job again."""

    endpoint_id: str
    delivery_id: str
    event_id: str


def next_delivery(
    context: WorkerContext, session: Session, org_id: str, endpoint_id: str
) -> NextDelivery | None:
    """The oldest pending delivery, read in the caller's transaction; None when nothing is
    parked (the common case of unordered endpoints costs one ``HLEN``)."""
    if context.jobs is None or parked(context).count(endpoint_id) == 0:
        return None
    found = WebhookDeliveryRepository(session, org_id).next_pending(endpoint_id)
    if found is None:
        return None
    return NextDelivery(endpoint_id, found.id, found.event_id)


@dataclass(frozen=True)
class Woken:
    """A delivery taken from the parked set, and its job, to run here or hand back."""

    job: DeliverJob
    delivery_id: str


def wake(
    context: WorkerContext,
    job: DeliverJob,
    found: NextDelivery | None,
    *,
    owner: str,
    enqueue: bool = True,
) -> Woken | None:
    """Take ``found`` for ``owner`` (the chain's first job) — call after committing — if it is
    parked: enqueue its job, or with ``enqueue=False`` return it for the caller to run at
    once and then :func:`release` (or hand back and release)."""
    if found is None:
        return None
    job_id = parked(context).take(found.endpoint_id, found.delivery_id, owner)
    if job_id is None:
        return None
    woken = Woken(_job_of(job, found, job_id), found.delivery_id)
    WEBHOOK_ORDERED_HANDOVERS.labels("woken").inc()
    if enqueue:
        hand_back(context, woken.job)
        release(context, woken)
        return None
    return woken


def wake_next(context: WorkerContext, job: DeliverJob, endpoint_id: str, *, owner: str) -> None:
    """:func:`wake` the endpoint's next delivery, read in a transaction of its own."""
    with context.sessions() as session:
        found = next_delivery(context, session, job.org_id, endpoint_id)
    wake(context, job, found, owner=owner)


def recover(context: WorkerContext, job: DeliverJob, endpoint_id: str) -> None:
    """For a redelivered job that finds its delivery settled: re-enqueue the deliveries it
    took and never handed on (it was killed mid-chain), then wake the next if it never did."""
    parking = parked(context)
    for delivery_id, job_id in parking.taken_by(endpoint_id, job.id):
        with context.sessions() as session:
            row = WebhookDeliveryRepository(session, job.org_id).get(delivery_id)
            found = NextDelivery(endpoint_id, row.id, row.event_id)
            pending = row.status == "pending"
        if pending:
            hand_back(context, _job_of(job, found, job_id))
            WEBHOOK_ORDERED_HANDOVERS.labels("recovered").inc()
        parking.release(endpoint_id, delivery_id)
    wake_next(context, job, endpoint_id, owner=job.id)


def release(context: WorkerContext, woken: Woken) -> None:
    """A taken delivery's job has run here, or waits in the queue: nobody must recover it."""
    parked(context).release(woken.job.payload.endpoint_id, woken.delivery_id)


def _job_of(template: DeliverJob, found: NextDelivery, job_id: str) -> DeliverJob:
    payload = DeliverPayload(event_id=found.event_id, endpoint_id=found.endpoint_id)
    update = {"id": job_id, "payload": payload, "idempotency_key": None, "not_before": None}
    return template.model_copy(update=update)


def hand_back(context: WorkerContext, job: DeliverJob, error: BaseException | None = None) -> None:
    """Enqueue a woken job, after the wait ``error`` asks for when running it here failed:
    a retry's or deferral's delay; at once otherwise (a job giving its delivery up finds it
    failed and dead-letters with the reason)."""
    assert context.jobs is not None
    wait = retry_after_of(error) if error is not None else None
    not_before = utcnow() + timedelta(seconds=wait) if wait else None
    context.jobs.enqueue(job.model_copy(update={"not_before": not_before}).model_dump(mode="json"))


Deliver = Callable[[DeliverJob, WorkerContext, str], "Woken | None"]


def run_chain(first: DeliverJob, context: WorkerContext, deliver: Deliver) -> None:
    """Deliver ``first``, then the deliveries it wakes, in this thread for up to
    ``CHAIN_SECONDS`` (no trip through the queue between two events of an ordered endpoint).

    ``first``'s own failure raises as usual. A woken delivery that fails here, or the one
    woken when time is up, is handed back to the queue as its own job. ``deliver`` takes the
    job, the context and the chain's owner (``first``'s id).
    """
    deadline = time.monotonic() + CHAIN_SECONDS
    woken = deliver(first, context, first.id)
    while woken is not None:
        current = woken
        if time.monotonic() > deadline:
            hand_back(context, current.job)
            release(context, current)
            return
        try:
            woken = deliver(current.job, context, first.id)
        except Exception as exc:
            log.info("woken delivery job %s handed back: %s", current.job.id, exc)
            hand_back(context, current.job, exc)
            release(context, current)
            return
        release(context, current)
