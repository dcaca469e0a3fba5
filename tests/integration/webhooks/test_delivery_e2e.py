"""Outbound webhooks end to end: publish an event, workers deliver it to a loopback receiver."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from providers.outbound import UNREACHABLE
from storage.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storage.repositories import EventRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import IssuedEndpoint, WebhookEndpointRepository
from storage.types import utcnow
from switchyard.app import Runtime
from switchyard.services.webhooks import ReplayRefusedError, replay_delivery, replay_failed
from tests.conftest import unique
from tests.integration.webhooks.conftest import webhook_runtime
from tests.integration.webhooks.receiver import Answer, Receiver
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration


def drain(runtime: Runtime) -> None:
    run_until_idle(runtime.worker_broker, runtime.lanes, threads=4, timeout_s=60)


def endpoint(runtime: Runtime, org: str, url: str, **options: Any) -> IssuedEndpoint:
    with runtime.sessions.begin() as session:
        return WebhookEndpointRepository(session, org, runtime.keyring).create(url, **options)


def publish(runtime: Runtime, org: str, type: str = "QR_SCANNED", **data: Any) -> str:
    return runtime.event_publisher.publish(org, type, data or {"qr": "q1"}).event_id


def deliveries(runtime: Runtime, org: str) -> list[WebhookDelivery]:
    with runtime.sessions() as session:
        return list(WebhookDeliveryRepository(session, org).list())


def attempts(runtime: Runtime, org: str, delivery_id: str) -> list[WebhookAttempt]:
    with runtime.sessions() as session:
        return list(WebhookDeliveryRepository(session, org).attempts(delivery_id))


def get_endpoint(runtime: Runtime, org: str, endpoint_id: str) -> WebhookEndpoint:
    with runtime.sessions() as session:
        return WebhookEndpointRepository(session, org, runtime.keyring).get(endpoint_id)


def dead(runtime: Runtime, org: str) -> list[Any]:
    with runtime.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


def verify(secret: str, request: Any) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


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


def test_410_disables_the_endpoint_at_once(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """A 410 is not retried: the endpoint is disabled as gone and an event says so."""
    receiver.then(Answer(410))
    issued = endpoint(hooks_runtime, hooks_org, receiver.url)
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    assert len(receiver.requests) == 1
    found = get_endpoint(hooks_runtime, hooks_org, issued.endpoint.id)
    assert (found.enabled, found.disabled_reason) == (False, "gone")
    assert [d.status for d in deliveries(hooks_runtime, hooks_org)] == ["failed"]
    assert len(dead(hooks_runtime, hooks_org)) == 1
    with hooks_runtime.sessions() as session:
        types = [e.type for e in EventRepository(session, hooks_org).list()]
    assert "webhook.endpoint.disabled" in types


def test_410s_in_flight_together_announce_one_disable(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Eight deliveries in flight all answered 410 (over several seconds): one disable, one
    ``webhook.endpoint.disabled`` event."""
    receiver.then(*(Answer(410, delay=0.2 + 0.4 * n) for n in range(8)))
    endpoint(hooks_runtime, hooks_org, receiver.url)
    for n in range(8):
        publish(hooks_runtime, hooks_org, n=n)
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, threads=8, timeout_s=60)
    assert len(receiver.requests) == 8
    with hooks_runtime.sessions() as session:
        announced = EventRepository(session, hooks_org).list(type="webhook.endpoint.disabled")
    assert len(announced) == 1
    assert announced[0].data["reason"] == "gone"


def test_endpoint_failing_for_too_long_is_disabled(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """Failures spanning more than disable_after_days disable the endpoint as failing."""
    runtime = webhook_runtime(
        request, tmp_path, namespace, "embedded", disable_after_days=0.03 / 86400
    )
    try:
        with runtime.sessions.begin() as session:
            org = OrganizationRepository(session).create(unique("fail")).id
        from tests.integration.webhooks.receiver import serving

        with serving(Receiver(default=Answer(500))) as failing:
            issued = endpoint(runtime, org, failing.url)
            publish(runtime, org)
            drain(runtime)
        assert len(failing.requests) == 2
        found = get_endpoint(runtime, org, issued.endpoint.id)
        assert (found.enabled, found.disabled_reason) == (False, "failing")
        with runtime.sessions() as session:
            disabled = EventRepository(session, org).list(type="webhook.endpoint.disabled")
        assert disabled[0].data["reason"] == "failing"
    finally:
        runtime.close()


def test_ordered_endpoint_delivers_in_event_order(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """With max_concurrency 1, a later event waits until the earlier one is delivered."""
    receiver.then(Answer(500), Answer(500))
    endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=1)
    events = [publish(hooks_runtime, hooks_org, n=n) for n in range(4)]
    drain(hooks_runtime)
    seen = [r.headers["webhook-id"].removeprefix("msg_") for r in receiver.requests]
    assert seen == [events[0]] * 3 + events[1:]


def deferred_deliveries() -> float:
    labels = {"queue": "deliver", "kind": "deliver", "provider": "custom_webhook"}
    return (
        REGISTRY.get_sample_value(
            "switchyard_jobs_finished_total", {**labels, "outcome": "deferred"}
        )
        or 0.0
    )


def test_ordered_backlog_hands_over_without_rechecking(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """A backlog of 20 events to an ordered endpoint drains in order with no deferral: each
    delivery starts when the previous one ends, not when a re-check timer fires."""
    before = deferred_deliveries()
    endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=1)
    events = [publish(hooks_runtime, hooks_org, n=n) for n in range(20)]
    drain(hooks_runtime)
    seen = [r.headers["webhook-id"].removeprefix("msg_") for r in receiver.requests]
    assert seen == events
    assert receiver.max_in_flight == 1
    assert deferred_deliveries() == before
    assert {d.attempts for d in deliveries(hooks_runtime, hooks_org)} == {1}


def test_ordered_delivery_failing_after_a_handover_retries_in_order(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """The second event, started when the first ended, fails once: it retries on its own
    schedule and the later events still arrive after it, each delivery ending delivered."""
    receiver.then(Answer(200), Answer(500))
    endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=1)
    events = [publish(hooks_runtime, hooks_org, n=n) for n in range(5)]
    drain(hooks_runtime)
    seen = [r.headers["webhook-id"].removeprefix("msg_") for r in receiver.requests]
    assert seen == [events[0], events[1], events[1], *events[2:]]
    found = {d.event_id: d for d in deliveries(hooks_runtime, hooks_org)}
    assert {d.status for d in found.values()} == {"delivered"}
    assert found[events[1]].attempts == 2 and dead(hooks_runtime, hooks_org) == []


def test_ordered_delivery_gone_after_a_handover_dead_letters_the_rest(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """The second event answered 410: the endpoint is disabled and every later delivery is
    failed and dead-lettered with its reason — none is left pending or lost."""
    receiver.then(Answer(200), Answer(410))
    endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=1)
    for n in range(5):
        publish(hooks_runtime, hooks_org, n=n)
    drain(hooks_runtime)
    assert len(receiver.requests) == 2
    statuses = sorted(d.status for d in deliveries(hooks_runtime, hooks_org))
    assert statuses == ["delivered", "failed", "failed", "failed", "failed"]
    assert len(dead(hooks_runtime, hooks_org)) == 4


def test_rotation_signs_with_old_and_new_secret(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """During the grace period both secrets sign; each alone verifies the delivery."""
    issued = endpoint(hooks_runtime, hooks_org, receiver.url)
    with hooks_runtime.sessions.begin() as session:
        rotated = WebhookEndpointRepository(
            session, hooks_org, hooks_runtime.keyring
        ).rotate_secret(issued.endpoint.id, grace=timedelta(hours=1))
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(issued.secret.reveal(), request)
    verify(rotated.secret.reveal(), request)


def test_rotation_without_grace_drops_the_old_secret(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """With no grace period only the new secret signs; the old one no longer verifies."""
    issued = endpoint(hooks_runtime, hooks_org, receiver.url)
    with hooks_runtime.sessions.begin() as session:
        rotated = WebhookEndpointRepository(
            session, hooks_org, hooks_runtime.keyring
        ).rotate_secret(issued.endpoint.id, grace=timedelta(0))
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    [request] = receiver.requests
    verify(rotated.secret.reveal(), request)
    with pytest.raises(Exception, match="No matching signature"):
        verify(issued.secret.reveal(), request)


def test_secrets_never_reach_logs(
    hooks_runtime: Runtime,
    hooks_org: str,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither the secret nor its ciphertext appears in any log line of a failing delivery."""
    caplog.set_level(logging.DEBUG)
    receiver.then(Answer(500), Answer(410))
    issued = endpoint(hooks_runtime, hooks_org, receiver.url)
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(issued.endpoint)
    assert issued.secret.reveal() not in text
    assert issued.secret.reveal().removeprefix("whsec_") not in text
    assert issued.endpoint.encrypted_secret not in text
    assert "****" in repr(issued.secret)


def test_blocked_destination_is_dead_lettered_without_retries(
    hooks_runtime: Runtime, hooks_org: str
) -> None:
    """An endpoint resolving to a refused address: one blocked attempt, then the DLQ."""
    endpoint(hooks_runtime, hooks_org, "http://169.254.169.254/latest/meta-data/")
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    [delivery] = deliveries(hooks_runtime, hooks_org)
    [attempt] = attempts(hooks_runtime, hooks_org, delivery.id)
    assert attempt.outcome == "blocked" and attempt.error == UNREACHABLE
    assert delivery.status == "failed"
    assert [d.error_class for d in dead(hooks_runtime, hooks_org)] == ["webhook_abandoned"]


def test_concurrency_limit_caps_requests_in_flight(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """With max_concurrency 2, a slow receiver never sees more than 2 requests at once."""
    receiver.default = Answer(200, delay=0.2)
    endpoint(hooks_runtime, hooks_org, receiver.url, max_concurrency=2)
    for n in range(6):
        publish(hooks_runtime, hooks_org, n=n)
    drain(hooks_runtime)
    assert len(receiver.requests) == 6
    assert receiver.max_in_flight <= 2
    assert {d.status for d in deliveries(hooks_runtime, hooks_org)} == {"delivered"}


def test_rate_limit_defers_without_spending_attempts(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Over the endpoint's rate, deliveries wait (deferred) and all arrive in one attempt."""
    labels = {"queue": "deliver", "kind": "deliver", "provider": "custom_webhook"}
    labels["outcome"] = "deferred"

    def deferred() -> float:
        return REGISTRY.get_sample_value("switchyard_jobs_finished_total", labels) or 0.0

    before = deferred()
    endpoint(hooks_runtime, hooks_org, receiver.url, rate_limit_per_second=2)
    for n in range(6):
        publish(hooks_runtime, hooks_org, n=n)
    drain(hooks_runtime)
    assert len(receiver.requests) == 6
    assert {d.attempts for d in deliveries(hooks_runtime, hooks_org)} == {1}
    assert deferred() > before
