"""Outbound webhooks end to end: an ordered endpoint (max_concurrency 1) gets events in order."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from switchyard.runtime import Runtime
from tests.e2e.webhooks.delivery import dead, deliveries, drain, endpoint, publish
from tests.integration.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.integration


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
