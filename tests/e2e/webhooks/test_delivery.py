"""Outbound webhooks end to end: an event is published, workers deliver it signed to a loopback
receiver, retry on schedule and dead-letter what is exhausted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from storage.types import utcnow
from switchyard.runtime import Runtime
from switchyard.services.webhooks import ReplayRefusedError, replay_delivery, replay_failed
from tests.e2e.webhooks.delivery import attempts, dead, deliveries, drain, endpoint, publish, verify
from tests.integration.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.integration


def test_event_is_delivered_signed(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """One request per event; standardwebhooks verifies it; the attempt is logged."""
    issued = endpoint(hooks_runtime, hooks_org, receiver.url, description="crm")
    event_id = publish(hooks_runtime, hooks_org, qr="abc")
    drain(hooks_runtime)
    [request] = receiver.requests
    body = verify(issued.secret.reveal(), request)
    assert body["type"] == "QR_SCANNED" and body["data"] == {"qr": "abc"}
    assert request.headers["webhook-id"] == f"msg_{event_id}"
    [delivery] = deliveries(hooks_runtime, hooks_org)
    assert delivery.status == "delivered" and delivery.attempts == 1
    [attempt] = attempts(hooks_runtime, hooks_org, delivery.id)
    assert (attempt.outcome, attempt.status_code, attempt.response_excerpt) == (
        "delivered",
        200,
        "ok",
    )


def test_event_type_filter_selects_endpoints(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Only endpoints whose filter names the type (or that have none) get a delivery."""
    endpoint(hooks_runtime, hooks_org, receiver.url, event_types=["CONVERSION_TRACKED"])
    publish(hooks_runtime, hooks_org, "QR_SCANNED")
    publish(hooks_runtime, hooks_org, "CONVERSION_TRACKED")
    drain(hooks_runtime)
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["CONVERSION_TRACKED"]


def test_failures_retry_on_the_schedule_until_delivered(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """500, timeout-like 503 and 302 are failures; the third retry's 200 delivers."""
    receiver.then(Answer(500), Answer(503), Answer(302, headers={"location": "http://x/"}))
    endpoint(hooks_runtime, hooks_org, receiver.url)
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    assert len(receiver.requests) == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    [delivery] = deliveries(hooks_runtime, hooks_org)
    logged = attempts(hooks_runtime, hooks_org, delivery.id)
    assert [a.outcome for a in logged] == ["retried", "retried", "retried", "delivered"]
    assert [a.status_code for a in logged] == [500, 503, 302, 200]
    assert delivery.status == "delivered"


def test_retry_after_is_honoured(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """A 429 with Retry-After: 1 delays the next attempt by at least that second."""
    receiver.then(Answer(429, headers={"retry-after": "1"}))
    endpoint(hooks_runtime, hooks_org, receiver.url)
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    first, second = receiver.requests
    gap = int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"])
    assert gap >= 1


def test_exhausted_delivery_lands_in_the_dlq_and_replays(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Every attempt of the schedule fails: delivery failed, job dead; a replay delivers."""
    receiver.then(*[Answer(500, body=b"x" * 5000)] * 4)
    endpoint(hooks_runtime, hooks_org, receiver.url)
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    assert len(receiver.requests) == 4
    [delivery] = deliveries(hooks_runtime, hooks_org)
    assert delivery.status == "failed" and delivery.last_status_code == 500
    assert all(
        len(a.response_excerpt) <= 1024 for a in attempts(hooks_runtime, hooks_org, delivery.id)
    )
    [dead_job] = dead(hooks_runtime, hooks_org)
    assert dead_job.kind == "deliver" and dead_job.error_class == "webhook_abandoned"
    replay_delivery(hooks_runtime.sessions, hooks_runtime.enqueuer.enqueue, hooks_org, delivery.id)
    drain(hooks_runtime)
    [delivery] = deliveries(hooks_runtime, hooks_org)
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert len(attempts(hooks_runtime, hooks_org, delivery.id)) == 5


def test_replay_of_everything_failed_since(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Failed deliveries since a time are replayed; delivered ones are left alone."""
    receiver.then(*[Answer(500)] * 8)
    issued = endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=1)
    start = utcnow() - timedelta(seconds=1)
    publish(hooks_runtime, hooks_org, n=1)
    publish(hooks_runtime, hooks_org, n=2)
    drain(hooks_runtime)
    assert {d.status for d in deliveries(hooks_runtime, hooks_org)} == {"failed"}
    report = replay_failed(
        hooks_runtime.sessions, hooks_runtime.enqueuer.enqueue, hooks_org, since=start
    )
    assert len(report.replayed) == 2 and not report.refused
    drain(hooks_runtime)
    assert {d.status for d in deliveries(hooks_runtime, hooks_org)} == {"delivered"}
    with pytest.raises(ReplayRefusedError):
        with hooks_runtime.sessions.begin() as session:
            WebhookEndpointRepository(session, hooks_org, hooks_runtime.keyring).disable(
                issued.endpoint.id
            )
        delivery_id = deliveries(hooks_runtime, hooks_org)[0].id
        replay_delivery(
            hooks_runtime.sessions, hooks_runtime.enqueuer.enqueue, hooks_org, delivery_id
        )
