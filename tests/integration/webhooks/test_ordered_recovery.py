"""Ordered endpoints: a job killed while it held the next delivery (taken from the parked
set, not yet run) is redelivered and hands that delivery on; nothing stays parked."""

from __future__ import annotations

import time

import pytest

from contract.envelope import DeliverJob
from storage.repositories.events import EventRepository
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.runtime import Runtime
from tests.integration.webhooks.receiver import Receiver
from workers.handlers.deliver import deliver_one
from workers.inprocess import run_until_idle
from workers.webhooks.parking import ParkedDeliveries

pytestmark = pytest.mark.integration


def stored_events(runtime: Runtime, org: str, endpoint_id: str, count: int) -> list[str]:
    """Events with their pending deliveries to the endpoint, without fan-out jobs."""
    ids = []
    for n in range(count):
        with runtime.sessions.begin() as session:
            event, _ = EventRepository(session, org).record("QR_SCANNED", {"n": n})
            EventRepository(session, org).mark_fanned_out(event.id)
            WebhookDeliveryRepository(session, org).ensure(endpoint_id, event)
            ids.append(event.id)
        time.sleep(0.01)  # distinct creation times: event order is unambiguous
    return ids


def job(org: str, endpoint_id: str, event_id: str) -> DeliverJob:
    return DeliverJob.model_validate(
        {
            "kind": "deliver",
            "org_id": org,
            "provider": "custom_webhook",
            "payload": {"event_id": event_id, "endpoint_id": endpoint_id},
        }
    )


def test_job_killed_holding_the_next_delivery_hands_it_on_when_redelivered(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """The first job delivers, takes the parked second delivery and dies before running it;
    redelivered, it finds its own delivery done and enqueues the second: both arrive, in
    order, and no delivery stays parked or taken."""
    context = hooks_runtime.worker_context
    with hooks_runtime.sessions.begin() as session:
        repo = WebhookEndpointRepository(session, hooks_org, hooks_runtime.keyring)
        endpoint_id = repo.create(receiver.url, max_concurrency=1).endpoint.id
    first, second = stored_events(hooks_runtime, hooks_org, endpoint_id, 2)
    first_job, second_job = job(hooks_org, endpoint_id, first), job(hooks_org, endpoint_id, second)
    assert deliver_one(second_job, context, second_job.id) is None  # parks behind the first
    woken = deliver_one(first_job, context, first_job.id)  # delivers, takes the second...
    assert woken is not None and woken.job.id == second_job.id  # ...and "dies" holding it
    parking = ParkedDeliveries(context.redis, context.namespace)
    assert parking.taken_by(endpoint_id, first_job.id) == [(woken.delivery_id, second_job.id)]
    assert deliver_one(first_job, context, first_job.id) is None  # the redelivery
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, threads=2, timeout_s=30)
    seen = [r.headers["webhook-id"].removeprefix("msg_") for r in receiver.requests]
    assert seen == [first, second]
    assert parking.taken_by(endpoint_id, first_job.id) == [] and parking.count(endpoint_id) == 0
    with hooks_runtime.sessions() as session:
        statuses = {d.status for d in WebhookDeliveryRepository(session, hooks_org).list()}
    assert statuses == {"delivered"}
