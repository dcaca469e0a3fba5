"""Outbound webhooks end to end: secret rotation, secrets kept out of logs, blocked destinations,
concurrency and rate limits."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from providers.outbound import UNREACHABLE
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.runtime import Runtime
from tests.e2e.webhooks.delivery import attempts, dead, deliveries, drain, endpoint, publish, verify
from tests.integration.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("grace_hours", [1, 0], ids=["grace", "no-grace"])
def test_rotation_signs_with_the_secrets_its_grace_keeps(
    hooks_runtime: Runtime, hooks_org: str, receiver: Receiver, grace_hours: int
) -> None:
    """During a grace period both secrets sign and each alone verifies; with none only the
    new secret signs and the old one no longer verifies."""
    issued = endpoint(hooks_runtime, hooks_org, receiver.url)
    with hooks_runtime.sessions.begin() as session:
        rotated = WebhookEndpointRepository(
            session, hooks_org, hooks_runtime.keyring
        ).rotate_secret(issued.endpoint.id, grace=timedelta(hours=grace_hours))
    publish(hooks_runtime, hooks_org)
    drain(hooks_runtime)
    [request] = receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == (2 if grace_hours else 1)
    verify(rotated.secret.reveal(), request)
    if grace_hours:
        verify(issued.secret.reveal(), request)
    else:
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
