"""OpenAI, Mailgun, ActiveCampaign and QuickBooks requests against their reference pages' examples (no
package ships these providers' specs; the pages are listed in each catalog entry)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx

from providers.auth import BasicCredential
from providers.client import ProviderClient
from providers.registry import Catalog
from tests.contracts.action_options import OPTIONS
from workers.actions import ActionEnv, HttpCall, action_for


def _call(provider: str, name: str, params: dict[str, Any]) -> HttpCall:
    action = action_for(provider, name)
    assert action is not None
    (call,) = action.calls(action.input.model_validate(params), ActionEnv("k1", OPTIONS))
    return call


def test_chat_completion_sends_model_and_messages() -> None:
    """A system instruction then the user's prompt, as the chat API's messages."""
    call = _call("openai", "create_chat_completion", {"prompt": "Hi", "system": "Be brief"})
    assert (call.method, call.path) == ("POST", "/chat/completions")
    assert call.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
    }


def test_mailgun_repeats_the_to_field_per_recipient(catalog: Catalog) -> None:
    """Two recipients are two ``to`` form fields on /v3/{domain}/messages, basic api:key."""
    params = {
        "domain": "mg.example.com",
        "from": "Team <team@example.com>",
        "to": ["ada@example.com", "grace@example.com"],
        "subject": "Hi",
        "text": "Hello",
        "tags": ["qr"],
    }
    call = _call("mailgun", "send_email", params)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "<1@mg.example.com>", "message": "Queued"})

    client = ProviderClient(
        catalog.get("mailgun"),
        {},
        BasicCredential("api", "key-1"),
        transport=httpx.MockTransport(answer),
    )
    client.request(call.method, call.path, data=call.data)
    (request,) = seen
    assert request.url.path == "/v3/mg.example.com/messages"
    form = parse_qs(request.content.decode())
    assert form["to"] == ["ada@example.com", "grace@example.com"] and form["o:tag"] == ["qr"]
    assert form["from"] == ["Team <team@example.com>"] and form["subject"] == ["Hi"]


def test_activecampaign_sync_wraps_the_contact() -> None:
    """contact/sync takes {"contact": {email, firstName, fieldValues: [{field, value}]}}."""
    params = {"email": "ada@example.com", "first_name": "Ada", "field_values": {"1": "QR"}}
    call = _call("activecampaign", "sync_contact", params)
    assert (call.method, call.path) == ("POST", "/contact/sync")
    assert call.json == {
        "contact": {
            "email": "ada@example.com",
            "firstName": "Ada",
            "fieldValues": [{"field": "1", "value": "QR"}],
        }
    }


def test_catch_hooks_receive_the_data_at_the_hook_url(catalog: Catalog) -> None:
    """Zapier's trigger POSTs the data as JSON to hooks.zapier.com/hooks/catch/{user}/{hook}."""
    call = _call("zapier", "trigger", {"data": {"email": "ada@example.com"}})
    client = ProviderClient(
        catalog.get("zapier"), {"user_id": "1234567", "hook_id": "abc1de2"}, None
    )
    assert client.url_for(call.path) == "https://hooks.zapier.com/hooks/catch/1234567/abc1de2"
    assert (call.method, call.json) == ("POST", {"email": "ada@example.com"})


def test_quickbooks_sales_receipt_lines_and_references() -> None:
    """Line[].SalesItemLineDetail.ItemRef, CustomerRef, TxnDate and PaymentRefNum as documented."""
    params = {
        "lines": [{"item_id": "1", "amount": 35.5, "quantity": 2, "description": "Lunch"}],
        "customer_id": "58",
        "txn_date": "2026-12-01",
        "payment_ref": "QR-7",
    }
    call = _call("quickbooks", "create_sales_receipt", params)
    assert (call.method, call.path) == ("POST", "/salesreceipt")
    assert call.json == {
        "Line": [
            {
                "Amount": 35.5,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2.0},
                "Description": "Lunch",
            }
        ],
        "CustomerRef": {"value": "58"},
        "TxnDate": "2026-12-01",
        "PaymentRefNum": "QR-7",
    }
