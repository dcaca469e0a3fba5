"""Action idempotency and validation: a redelivered job does not repeat its side effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.envelope import InvalidJobError, load_envelope
from providers.sandbox import Sandbox
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.actions.connections import connect
from tests.integration.actions.test_provider_actions import action_job, new_org
from workers.errors import PermanentJobError
from workers.handlers.action import handle


@pytest.fixture(params=["embedded", "servers"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    settings = runtime_settings(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )
    settings.actions.platform_fee_percent = 2.5
    runtime = build_runtime(settings, sandbox=Sandbox(seed=1))
    yield runtime
    runtime.close()


def envelope(rt: Runtime, data: dict[str, Any]) -> Any:
    return load_envelope(data, providers=rt.catalog)


def test_redelivered_job_does_not_post_twice(rt: Runtime) -> None:
    """The same job handled twice (a redelivery) posts one Slack message; same output."""
    org = new_org(rt)
    connect(rt, org, "slack")
    job = envelope(
        rt, action_job(org, "slack", "post_message", {"channel": "C1", "text": "x"}, "r1")
    )
    first = handle(job, rt.worker_context)
    second = handle(job, rt.worker_context)
    assert first == second
    assert rt.sandbox is not None and len(rt.sandbox.writes.created("slack", "message")) == 1


def test_stripe_gets_the_idempotency_key_and_the_platform_fee(rt: Runtime) -> None:
    """A payment intent carries Idempotency-Key and application_fee_amount at 2.5 %."""
    org = new_org(rt)
    connect(rt, org, "stripe")
    job = envelope(
        rt, action_job(org, "stripe", "create_payment_intent", {"amount": 1999}, "pay-1")
    )
    output = handle(job, rt.worker_context)
    assert output["application_fee_amount"] == "50"  # 2.5 % of 1999, rounded half up
    assert rt.sandbox is not None
    [intent] = rt.sandbox.writes.created("stripe", "payment_intent")
    assert intent["application_fee_amount"] == "50" and intent["currency"] == "usd"


def test_stripe_replays_a_repeated_key_instead_of_charging_twice(rt: Runtime) -> None:
    """Two calls with one idempotency key create one payment intent at Stripe."""
    org = new_org(rt)
    connect(rt, org, "stripe")
    from workers.actions import action_for
    from workers.actions.runner import perform

    action = action_for("stripe", "create_payment_intent")
    assert action is not None
    job = envelope(rt, action_job(org, "stripe", "create_payment_intent", {"amount": 900}, "p2"))
    params = action.input.model_validate({"amount": 900})
    perform(rt.worker_context, job, action, params, "same-key")
    perform(rt.worker_context, job, action, params, "same-key")
    assert (
        rt.sandbox is not None and len(rt.sandbox.writes.created("stripe", "payment_intent")) == 1
    )


def test_invalid_input_is_refused_at_enqueue_and_by_the_worker(rt: Runtime) -> None:
    """A bad phone number is refused at enqueue naming payload.input.to; one that reaches a
    worker anyway (a producer of another version) fails permanently naming it, nothing sent."""
    org = new_org(rt)
    connect(rt, org, "twilio")
    bad = {"to": "555-0100", "from": "+14155550199", "body": "hi"}
    data = action_job(org, "twilio", "send_sms", bad, "bad-1")
    with pytest.raises(InvalidJobError) as refused:
        rt.enqueuer.enqueue(data)
    assert [e.field for e in refused.value.errors] == ["payload.input.to"]
    with pytest.raises(PermanentJobError, match=r"payload\.input\.to"):
        handle(envelope(rt, data), rt.worker_context)
    assert rt.sandbox is not None and rt.sandbox.writes.created("twilio", "message") == []


def test_unknown_action_is_refused_as_unsupported(rt: Runtime) -> None:
    """An action the provider does not have dead-letters as unsupported, naming it."""
    org = new_org(rt)
    connect(rt, org, "slack")
    job = envelope(rt, action_job(org, "slack", "launch_rocket", {}, "u1"))
    with pytest.raises(PermanentJobError, match="launch_rocket"):
        handle(job, rt.worker_context)
