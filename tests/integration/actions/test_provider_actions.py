"""Every provider action against the sandbox: the call is made once, the output normalized."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.routes import ActionRunRepository
from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime, unique
from tests.integration.actions.connections import connect
from workers.actions import all_actions
from workers.inprocess import run_until_idle

START = "2026-12-01T15:00:00+00:00"
END = "2026-12-01T15:30:00+00:00"

# action -> (input, sandbox kind it creates, output field that must be set)
CASES: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {
    ("slack", "post_message"): ({"channel": "C123", "text": "QR scanned"}, "message", "ts"),
    ("discord", "send_message"): (
        {"channel_id": "197038439483310086", "content": "hi"},
        "message",
        "id",
    ),
    ("discord", "webhook_message"): (
        {"webhook_id": "197038439483310086", "content": "QR scanned", "username": "Switchyard"},
        "webhook_message",
        "id",
    ),
    ("twilio", "send_sms"): (
        {"to": "+14155550100", "from": "+14155550199", "body": "hi"},
        "message",
        "sid",
    ),
    ("twilio", "send_whatsapp"): (
        {"to": "+14155550100", "from": "+14155550199", "body": "hi"},
        "message",
        "sid",
    ),
    ("facebook_messenger", "send_message"): (
        {"recipient_id": "24092018123456789", "text": "Your table is ready"},
        "message",
        "message_id",
    ),
    ("openai", "create_chat_completion"): (
        {"prompt": "Summarise this scan", "system": "Be brief"},
        "completion",
        "text",
    ),
    ("mailgun", "send_email"): (
        {
            "domain": "mg.example.com",
            "from": "Team <team@example.com>",
            "to": ["ada@example.com", "grace@example.com"],
            "subject": "Thanks for scanning",
            "text": "Hello",
        },
        "message",
        "id",
    ),
    ("activecampaign", "sync_contact"): (
        {"email": "ada@example.com", "first_name": "Ada", "field_values": {"1": "QR"}},
        "contact",
        "id",
    ),
    ("zapier", "trigger"): ({"data": {"email": "ada@example.com"}}, "trigger", "id"),
    ("make", "trigger"): ({"data": {"email": "ada@example.com"}}, "trigger", "status"),
    ("n8n", "trigger"): ({"data": {"email": "ada@example.com"}}, "trigger", "status"),
    ("twitter", "create_post"): ({"text": "Scan the code at the door"}, "post", "id"),
    ("facebook", "create_page_post"): (
        {"page_id": "104928371234567", "message": "Open late tonight"},
        "post",
        "id",
    ),
    ("constant_contact", "sign_up_contact"): (
        {"email": "ada@example.com", "first_name": "Ada", "list_ids": ["07936f78-662a-11eb"]},
        "contact",
        "id",
    ),
    ("zoho_crm", "create_lead"): (
        {"last_name": "Lovelace", "company": "Analytical", "email": "ada@example.com"},
        "lead",
        "id",
    ),
    ("quickbooks", "create_sales_receipt"): (
        {"lines": [{"item_id": "1", "amount": 35.5, "quantity": 2}], "payment_ref": "QR-7"},
        "sales_receipt",
        "id",
    ),
    ("telegram", "send_message"): ({"chat_id": "-1001234", "text": "hi"}, "message", "message_id"),
    ("sendgrid", "send_email"): (
        {
            "to": "ada@example.com",
            "from_email": "team@example.com",
            "template_id": "d-" + "0" * 32,
            "dynamic_data": {"first_name": "Ada"},
        },
        "email",
        "message_id",
    ),
    ("mailchimp", "upsert_member"): (
        {"list_id": "a1b2c3d4e5", "email": "Ada@Example.com", "tags": ["qr", "nyc"]},
        "member",
        "id",
    ),
    ("klaviyo", "upsert_profile"): (
        {"email": "ada@example.com", "first_name": "Ada"},
        "profile",
        "id",
    ),
    ("hubspot", "upsert_contact"): (
        {"email": "ada@example.com", "firstname": "Ada"},
        "contact",
        "id",
    ),
    ("hubspot", "create_deal"): ({"dealname": "QR order", "amount": 120.5}, "deal", "id"),
    ("hubspot", "add_note"): ({"contact_id": "42", "body": "Call summary"}, "note", "id"),
    ("salesforce", "create_lead"): ({"last_name": "Lovelace", "company": "Acme"}, "record", "id"),
    ("salesforce", "create_contact"): (
        {"last_name": "Lovelace", "email": "ada@example.com"},
        "record",
        "id",
    ),
    ("pipedrive", "create_person"): ({"name": "Ada", "email": "ada@example.com"}, "person", "id"),
    ("google_sheets", "append_row"): (
        {"spreadsheet_id": "1AbCdEfGhIjKlMnOp", "range": "Scans", "values": ["ada", 3, True]},
        "row",
        "updated_range",
    ),
    ("airtable", "create_record"): ({"table": "Leads", "fields": {"Name": "Ada"}}, "record", "id"),
    ("google_calendar", "create_event"): (
        {"summary": "Demo", "start": START, "end": END, "attendees": ["ada@example.com"]},
        "event",
        "id",
    ),
    ("calendly", "create_scheduling_link"): (
        {"event_type": "https://api.calendly.com/event_types/ET123"},
        "scheduling_link",
        "booking_url",
    ),
    ("cal_com", "create_booking"): (
        {
            "event_type_id": 7,
            "start": START,
            "attendee_name": "Ada",
            "attendee_email": "ada@example.com",
        },
        "booking",
        "uid",
    ),
    ("stripe", "create_customer"): (
        {"email": "ada@example.com", "metadata": {"qr": "7"}},
        "customer",
        "id",
    ),
    ("stripe", "create_payment_intent"): (
        {"amount": 1999, "currency": "usd"},
        "payment_intent",
        "id",
    ),
    ("stripe", "create_invoice"): (
        {"customer": "cus_123", "items": [{"amount": 500, "description": "Table"}]},
        "invoice",
        "id",
    ),
    ("shopify", "set_inventory_level"): (
        {"inventory_item_id": 808, "location_id": 9, "available": 12},
        "inventory_level",
        "available",
    ),
    ("custom_webhook", "send"): (
        {
            "method": "PUT",
            "path": "/hooks/qr",
            "headers": {"X-Source": "switchyard"},
            "body": {"a": 1},
        },
        "request",
        "status",
    ),
}


@pytest.fixture(params=["embedded", "servers"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    yield from sandboxed_runtime(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )


def new_org(rt: Runtime) -> str:
    with rt.sessions.begin() as session:
        return OrganizationRepository(session).create(unique("act")).id


def dead(rt: Runtime, org: str) -> list[Any]:
    with rt.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


def action_job(
    org: str, provider: str, action: str, data: dict[str, Any], key: str
) -> dict[str, Any]:
    payload = {"action": action, "input": data}
    return {
        "kind": "action",
        "org_id": org,
        "provider": provider,
        "payload": payload,
        "idempotency_key": key,
    }


def test_every_registered_action_has_a_sandbox_case() -> None:
    """No action ships without a test case here."""
    assert {(a.provider, a.name) for a in all_actions()} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES), ids=lambda c: f"{c[0]}.{c[1]}")
def test_action_creates_exactly_one_object_and_records_its_output(
    rt: Runtime, case: tuple[str, str]
) -> None:
    """The action job calls the provider, the sandbox records one object, output is stored."""
    provider, action = case
    data, kind, output_field = CASES[case]
    org = new_org(rt)
    connect(rt, org, provider)
    rt.enqueuer.enqueue(action_job(org, provider, action, data, "k1"))
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    assert dead(rt, org) == []
    assert rt.sandbox is not None
    assert len(rt.sandbox.writes.created(provider, kind)) == 1
    with rt.sessions() as session:
        run = ActionRunRepository(session, org).get("job:k1")
        assert run is not None and run.output.get(output_field) not in (None, "")
