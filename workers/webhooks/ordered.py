"""Ordered endpoints (concurrency 1) hand over: the next delivery starts when one ends.

A delivery whose older sibling is still pending *parks* — its delivery id joins the
endpoint's parked set in Redis and its job ends — instead of re-checking on a timer. When a
delivery of the endpoint ends (delivered or failed), the oldest pending delivery is woken:
whoever removes it from the parked set (``SREM`` answers 1 to one caller only) owns its job
(same job id, so its round and attempt count carry on). After a delivery, the owner runs
it at once in the same thread (:func:`run_chain`, no trip through the queue); after a
failure, or when the chain has run ``CHAIN_SECONDS``, it enqueues it (:func:`hand_back`).
A worker killed mid-chain is redelivered with its first job, finds that delivery settled
and enqueues the oldest pending one.

Races: a parking job re-reads whether its predecessor is still pending *after* parking, and a
settling job wakes *after* committing, so one of the two always sees the other; if both do,
``SREM`` decides who goes. A worker killed between its commit and the wake is redelivered,
finds its delivery settled and wakes the next delivery then (a duplicate job at worst,
never a stranded one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from redis import Redis
from sqlalchemy.orm import Session

from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.types import utcnow
from workers.context import WorkerContext
from workers.envelope import DeliverJob, DeliverPayload
from workers.errors import retry_after_of
from workers.metrics import WEBHOOK_ORDERED_HANDOVERS

log = logging.getLogger("switchyard.webhooks")
#: How long one job may go on delivering the woken successors of an ordered endpoint.
CHAIN_SECONDS = 5.0


class ParkedDeliveries:
    """The parked set of each ordered endpoint, shared by every worker."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace

    def park(self, endpoint_id: str, delivery_id: str) -> None:
        self.redis.sadd(self._key(endpoint_id), delivery_id)

    def take(self, endpoint_id: str, delivery_id: str) -> bool:
        """True for the one caller that removes the delivery from the parked set."""
        return bool(self.redis.srem(self._key(endpoint_id), delivery_id))

    def count(self, endpoint_id: str) -> int:
        return int(self.redis.scard(self._key(endpoint_id)))

    def _key(self, endpoint_id: str) -> str:
        return f"{self.namespace}:webhook:parked:{endpoint_id}"


def parked(context: WorkerContext) -> ParkedDeliveries:
    return ParkedDeliveries(context.redis, context.namespace)


@dataclass(frozen=True)
class NextDelivery:
    """The endpoint's oldest pending delivery, as needed to enqueue its job again."""

    endpoint_id: str
    delivery_id: str
    job_id: str
    event_id: str


def next_delivery(
    context: WorkerContext, session: Session, org_id: str, endpoint_id: str, *, always: bool
) -> NextDelivery | None:
    """The oldest pending delivery, read in the caller's transaction; skipped (None) when
    nothing is parked unless ``always``."""
    if context.jobs is None or (not always and parked(context).count(endpoint_id) == 0):
        return None
    found = WebhookDeliveryRepository(session, org_id).next_pending(endpoint_id)
    if found is None or found.job_id is None:
        return None
    return NextDelivery(endpoint_id, found.id, found.job_id, found.event_id)


def wake(
    context: WorkerContext,
    job: DeliverJob,
    found: NextDelivery | None,
    *,
    recovering: bool = False,
    enqueue: bool = True,
) -> DeliverJob | None:
    """Wake ``found`` — call after committing — if it is parked: enqueue its job, or with
    ``enqueue=False`` return it for the caller to run at once (or hand back).

    ``recovering``: this job found its delivery already settled (it was redelivered after a
    crash), so the wake it owed may never have happened: enqueue the next job even if it is
    no longer parked (a duplicate at worst finds its delivery settled and returns).
    """
    if found is None:
        return None
    if not parked(context).take(found.endpoint_id, found.delivery_id) and not recovering:
        return None  # not parked: its job is on its way (or another worker woke it)
    payload = DeliverPayload(event_id=found.event_id, endpoint_id=found.endpoint_id)
    woken = job.model_copy(
        update={"id": found.job_id, "payload": payload, "idempotency_key": None, "not_before": None}
    )
    WEBHOOK_ORDERED_HANDOVERS.labels("recovered" if recovering else "woken").inc()
    if not enqueue and not recovering:
        return woken
    hand_back(context, woken)
    return None


def wake_next(
    context: WorkerContext, job: DeliverJob, endpoint_id: str, *, recovering: bool = False
) -> None:
    """:func:`wake` the endpoint's next delivery, read in a transaction of its own."""
    with context.sessions() as session:
        found = next_delivery(context, session, job.org_id, endpoint_id, always=recovering)
    wake(context, job, found, recovering=recovering)


def hand_back(context: WorkerContext, job: DeliverJob, error: BaseException | None = None) -> None:
    """Enqueue a woken job, after the wait ``error`` asks for when running it here failed:
    a retry's or deferral's delay; at once otherwise (a job giving its delivery up finds it
    failed and dead-letters with the reason)."""
    assert context.jobs is not None
    wait = retry_after_of(error) if error is not None else None
    not_before = utcnow() + timedelta(seconds=wait) if wait else None
    context.jobs.enqueue(job.model_copy(update={"not_before": not_before}).model_dump(mode="json"))


def run_chain(
    first: DeliverJob,
    context: WorkerContext,
    deliver: Callable[[DeliverJob, WorkerContext, bool], DeliverJob | None],
) -> None:
    """Deliver ``first``, then the deliveries it wakes, in this thread for up to
    ``CHAIN_SECONDS`` (no trip through the queue between two events of an ordered endpoint).

    ``first``'s own failure raises as usual. A woken delivery that fails here, or the one
    woken when time is up, is handed back to the queue as its own job.
    """
    deadline = time.monotonic() + CHAIN_SECONDS
    woken = deliver(first, context, False)
    while woken is not None:
        if time.monotonic() > deadline:
            hand_back(context, woken)
            return
        current = woken
        try:
            woken = deliver(current, context, True)  # known to be the oldest pending
        except Exception as exc:
            log.info("woken delivery job %s handed back: %s", current.id, exc)
            hand_back(context, current, exc)
            return
