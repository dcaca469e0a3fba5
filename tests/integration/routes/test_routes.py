"""Routes: events fan out to pipelines whose steps run, retry and replay independently."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.sandbox.scripted import Scripted
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from switchyard.services.dead_jobs import DeadJobQuery, parse_selection, replay
from switchyard.services.errors import InvalidInput
from switchyard.services.routes import create_route, dry_run_route, show_route
from tests.conftest import sandboxed_runtime, unique
from tests.integration.actions.test_provider_actions import dead
from tests.integration.routes.qr_route import QR_ROUTE, SCAN, connect_qr_providers, created
from workers.inprocess import run_until_idle


@pytest.fixture(params=["embedded", "servers"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    yield from sandboxed_runtime(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )


@pytest.fixture
def org(rt: Runtime) -> str:
    with rt.sessions.begin() as session:
        org_id = OrganizationRepository(session).create(unique("route")).id
    connect_qr_providers(rt, org_id)
    create_route(rt.sessions, rt.catalog, org_id, QR_ROUTE)
    return org_id


def publish(rt: Runtime, org: str, data: dict[str, Any], key: str = "scan-1") -> int:
    return rt.event_publisher.publish(org, "QR_SCANNED", data, idempotency_key=key).jobs


def test_event_runs_the_pipeline_once_with_earlier_outputs(rt: Runtime, org: str) -> None:
    """One scan: one contact, one Slack message naming the contact id, one row."""
    assert publish(rt, org, SCAN) == 1
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert created(rt) == (1, 1, 1)
    assert rt.sandbox is not None
    [contact] = rt.sandbox.writes.created("hubspot", "contact")
    assert contact["email"] == "ada@example.com" and contact["phone"] == "+14155550100"
    [message] = rt.sandbox.writes.created("slack", "message")
    assert f"(contact {contact['id']})" in message["text"]
    [row] = rt.sandbox.writes.created("google_sheets", "row")
    assert row["values"][1:] == ["QR-7", "ada@example.com", contact["id"]]


def test_slack_429_then_500_still_posts_exactly_once(rt: Runtime, org: str) -> None:
    """A rate-limited then failing Slack step retries alone: HubSpot is not called again."""
    assert rt.sandbox is not None
    rt.sandbox.inject("slack", Scripted(statuses=[429, 500]))
    publish(rt, org, SCAN)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert created(rt) == (1, 1, 1)
    assert rt.sandbox.requests["hubspot"] == 1 and dead(rt, org) == []


def test_republished_event_does_not_repeat_the_pipeline(rt: Runtime, org: str) -> None:
    """The same idempotency key twice: one pipeline run."""
    publish(rt, org, SCAN)
    publish(rt, org, SCAN)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert created(rt) == (1, 1, 1)


def test_filter_mismatch_and_other_types_start_nothing(rt: Runtime, org: str) -> None:
    """A campaign outside the filter, or another event type, enqueues no job."""
    assert publish(rt, org, {**SCAN, "campaign": "winter"}, key="w") == 0
    assert rt.event_publisher.publish(org, "QR_CREATED", SCAN).jobs == 0


def test_dead_step_replays_without_repeating_earlier_steps(rt: Runtime, org: str) -> None:
    """Sheets failing past its retries dead-letters step 3 alone; a replay adds the row."""
    assert rt.sandbox is not None
    rt.sandbox.inject("google_sheets", server_errors=10)
    publish(rt, org, SCAN)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    [row] = dead(rt, org)
    assert row.provider == "google_sheets" and created(rt) == (1, 1, 0)
    rt.sandbox.clear_faults()
    with rt.sessions() as session:
        selection = parse_selection(session, DeadJobQuery(ids=(row.id,)))
    replay(rt.sessions, rt.enqueuer.enqueue, selection, actor="test")
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert created(rt) == (1, 1, 1)


def test_bad_mappings_are_refused_at_save_time_naming_fields(rt: Runtime, org: str) -> None:
    """Unknown action, bad template, unknown input, bad constant, missing connection."""
    bad = {
        "name": "broken",
        "event_type": "QR_SCANNED",
        "steps": [
            {"provider": "slack", "action": "post_msg", "input": {}},
            {
                "provider": "slack",
                "action": "post_message",
                "input": {"channel": "{{ data.c | lowercase }}", "text": "x"},
            },
            {
                "provider": "hubspot",
                "action": "upsert_contact",
                "input": {"email": "not-an-email", "colour": "red"},
            },
            {
                "provider": "twilio",
                "action": "send_sms",
                "input": {"to": "{{ steps.9.phone }}", "body": "x"},
            },
            {"provider": "stripe", "action": "create_customer", "input": {}},
        ],
    }
    with pytest.raises(InvalidInput) as caught:
        create_route(rt.sessions, rt.catalog, org, bad)
    fields = {e.field: e.message for e in caught.value.errors}
    assert "unknown action 'post_msg'" in fields["steps.0.action"]
    assert "unknown filter 'lowercase'" in fields["steps.1.input.channel"]
    assert "not an input" in fields["steps.2.input.colour"]
    assert "steps.2.input.email" in fields
    assert "earlier steps: 0, 1, 2" in fields["steps.3.input.to"]
    assert "steps.3.input.from" in fields  # required, not mapped
    with pytest.raises(InvalidInput, match=r"steps\.0\.connection: no connection"):
        create_route(
            rt.sessions, rt.catalog, org, {**QR_ROUTE, "name": "x", "steps": [bad["steps"][4]]}
        )


def test_dry_run_shows_each_steps_input(rt: Runtime, org: str) -> None:
    """routes test renders inputs for a sample event, earlier outputs as placeholders."""
    preview = dry_run_route(rt.sessions, org, "qr-to-crm", SCAN)
    assert preview["matches"] is True
    contact, message, _row = preview["steps"]
    assert contact["input"]["email"] == "ada@example.com"
    assert "<steps.contact.id>" in message["input"]["text"]
    bad = dry_run_route(rt.sessions, org, "qr-to-crm", {"email": "nobody"})
    assert "input.email" in bad["steps"][0]["error"] and bad["matches"] is False


def test_redelivered_step_replays_its_output_and_continues_once(rt: Runtime, org: str) -> None:
    """A step job handled twice calls HubSpot once and enqueues the next step once."""
    from contract.envelope import load_envelope
    from routes.matching import step_job
    from workers.handlers.action import handle

    event = rt.event_publisher.publish(org, "QR_CREATED", SCAN).event_id  # no route: no jobs
    route = show_route(rt.sessions, org, "qr-to-crm")
    job = load_envelope(
        step_job(org, event, route["id"], 0, route["steps"][0]), providers=rt.catalog
    )
    first = handle(job, rt.worker_context)
    again = handle(job, rt.worker_context)
    assert first == again
    assert rt.sandbox is not None and rt.sandbox.requests["hubspot"] == 1
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert created(rt) == (1, 1, 1)


def test_provider_secrets_never_reach_logs(
    rt: Runtime, org: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing Telegram call (token in its URL path) logs no token, nor any OAuth token."""
    import logging

    from providers.sandbox.profiles.outbound import TELEGRAM_TOKEN
    from tests.integration.actions.connections import connect
    from tests.integration.actions.test_provider_actions import action_job

    caplog.set_level(logging.DEBUG)
    # As switchyard.logs configures it: httpx's own request line (the raw URL) stays quiet.
    caplog.set_level(logging.WARNING, logger="httpx")
    assert rt.sandbox is not None
    connect(rt, org, "telegram")
    rt.sandbox.inject(f"bot{TELEGRAM_TOKEN}", server_errors=10)
    job = action_job(org, "telegram", "send_message", {"chat_id": "42", "text": "x"}, "t1")
    rt.enqueuer.enqueue(job)
    publish(rt, org, SCAN)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert "dead_lettered" in caplog.text
    assert TELEGRAM_TOKEN not in caplog.text
    assert all(token not in caplog.text for token in rt.sandbox.tokens.by_access)


def test_generic_proxy_step_feeds_a_later_step(rt: Runtime, org: str) -> None:
    """A proxy GET as step 0; its JSON body is readable by the next step's mapping."""
    route = {
        "name": "lookup-then-post",
        "event_type": "CALL_COMPLETED",
        "steps": [
            {
                "name": "lookup",
                "provider": "hubspot",
                "action": "proxy",
                "input": {"path": "/crm/v3/objects/contacts", "query": {"limit": "1"}},
            },
            {
                "provider": "slack",
                "action": "post_message",
                "input": {
                    "channel": "C1",
                    "text": "first contact: {{ steps.lookup.body.results.0.properties.email }}",
                },
            },
        ],
    }
    create_route(rt.sessions, rt.catalog, org, route)
    rt.event_publisher.publish(org, "CALL_COMPLETED", {})
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=30)
    assert rt.sandbox is not None
    [message] = rt.sandbox.writes.created("slack", "message")
    assert message["text"] == "first contact: user1@example.com"
