"""Ordered endpoints (concurrency 1) hand over: the next delivery starts when one ends.

A delivery whose older sibling is still pending *parks* — its delivery id joins the
endpoint's parked set in Redis and its job ends — instead of re-checking on a timer. When a
delivery of the endpoint ends (delivered or failed), the oldest pending delivery is woken:
whoever removes it from the parked set (``SREM`` answers 1 to one caller only) enqueues its
job again, under the same job id, so its round and attempt count carry on.

Races: a parking job re-reads whether its predecessor is still pending *after* parking, and a
settling job wakes *after* committing, so one of the two always sees the other; if both do,
``SREM`` decides who goes. A worker killed between its commit and the wake is redelivered,
finds its delivery settled and wakes the next delivery then (a duplicate job at worst,
never a stranded one).
"""

from __future__ import annotations

from redis import Redis

from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from workers.context import WorkerContext
from workers.envelope import DeliverJob, DeliverPayload
from workers.metrics import WEBHOOK_ORDERED_HANDOVERS


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


def wake_next(
    context: WorkerContext, job: DeliverJob, endpoint_id: str, *, recovering: bool = False
) -> None:
    """Enqueue the job of the endpoint's oldest pending delivery if it is parked.

    ``recovering``: this job found its delivery already settled (it was redelivered after a
    crash), so the wake it owed may never have happened: enqueue the next job even if it is
    no longer parked (a duplicate at worst finds its delivery settled and returns).
    """
    parking = parked(context)
    if context.jobs is None or (not recovering and parking.count(endpoint_id) == 0):
        return
    with context.sessions() as session:
        found = WebhookDeliveryRepository(session, job.org_id).next_pending(endpoint_id)
        if found is None or found.job_id is None:
            return
        delivery_id, job_id, event_id = found.id, found.job_id, found.event_id
    if not parking.take(endpoint_id, delivery_id) and not recovering:
        return  # not parked: its job is on its way (or another worker woke it)
    payload = DeliverPayload(event_id=event_id, endpoint_id=endpoint_id)
    woken = job.model_copy(
        update={"id": job_id, "payload": payload, "idempotency_key": None, "not_before": None}
    )
    context.jobs.enqueue(woken.model_dump(mode="json"))
    WEBHOOK_ORDERED_HANDOVERS.labels("recovered" if recovering else "woken").inc()
