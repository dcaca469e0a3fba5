"""Outbound webhooks end to end: endpoints that answer 410 or fail for too long are disabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.repositories import EventRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.e2e.webhooks.delivery import dead, deliveries, drain, endpoint, get_endpoint, publish
from tests.integration.webhooks.conftest import webhook_runtime
from tests.integration.webhooks.receiver import Answer, Receiver
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration


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
