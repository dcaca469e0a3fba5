"""X, Facebook Pages, Constant Contact, Zoho CRM and the Make / n8n hooks: requests against
their reference pages' documented bodies (listed as ``reference_docs`` in each entry; no
package ships these providers' specs)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from providers.client import ProviderClient
from providers.registry import Catalog
from tests.contracts.action_options import OPTIONS
from workers.actions import ActionEnv, HttpCall, action_for


def _call(provider: str, name: str, params: dict[str, Any]) -> HttpCall:
    action = action_for(provider, name)
    assert action is not None
    (call,) = action.calls(action.input.model_validate(params), ActionEnv("k1", OPTIONS))
    return call


def test_x_post_and_reply() -> None:
    """POST /2/tweets {"text"}; a reply adds reply.in_reply_to_tweet_id."""
    call = _call("twitter", "create_post", {"text": "Hi", "reply_to": "1346889436626259968"})
    assert (call.method, call.path) == ("POST", "/tweets")
    assert call.json == {"text": "Hi", "reply": {"in_reply_to_tweet_id": "1346889436626259968"}}


def test_page_post_goes_to_the_pages_feed() -> None:
    """POST /{page_id}/feed with message (and link), the page id filled from the input."""
    params = {"page_id": "104928371234567", "message": "Open late", "link": "https://a.example"}
    call = _call("facebook", "create_page_post", params)
    assert (call.method, call.path) == ("POST", "/104928371234567/feed")
    assert call.json == {"message": "Open late", "link": "https://a.example"}


def test_constant_contact_sign_up_form_body() -> None:
    """email_address and list_memberships (required), names when given."""
    params = {"email": "ada@example.com", "first_name": "Ada", "list_ids": ["07936f78"]}
    call = _call("constant_contact", "sign_up_contact", params)
    assert (call.method, call.path) == ("POST", "/contacts/sign_up_form")
    assert call.json == {
        "email_address": "ada@example.com",
        "list_memberships": ["07936f78"],
        "first_name": "Ada",
    }
    with pytest.raises(ValidationError, match="list_ids"):
        _call("constant_contact", "sign_up_contact", {"email": "ada@example.com", "list_ids": []})


def test_zoho_lead_uses_api_field_names_in_a_data_array() -> None:
    """{"data": [{"Last_Name", "Company", "Email", custom API names...}]}."""
    params = {"last_name": "Lovelace", "company": "Analytical", "fields": {"Lead_Source": "QR"}}
    call = _call("zoho_crm", "create_lead", params)
    assert (call.method, call.path) == ("POST", "/Leads")
    assert call.json == {
        "data": [{"Lead_Source": "QR", "Last_Name": "Lovelace", "Company": "Analytical"}]
    }


@pytest.mark.parametrize(
    ("provider", "account", "url"),
    [
        (
            "make",
            {"region": "eu1", "hook_id": "abcdefghijklmnopqrstuvwxyz012345"},
            "https://hook.eu1.make.com/abcdefghijklmnopqrstuvwxyz012345",
        ),
        (
            "n8n",
            {"host": "n8n.example.com", "webhook_path": "orders"},
            "https://n8n.example.com/webhook/orders",
        ),
    ],
)
def test_make_and_n8n_hooks_receive_the_data_at_their_url(
    catalog: Catalog, provider: str, account: dict[str, str], url: str
) -> None:
    """The trigger POSTs the data as JSON to the hook URL the connection's identifiers name."""
    call = _call(provider, "trigger", {"data": {"order": 7}})
    assert ProviderClient(catalog.get(provider), account, None).url_for(call.path) == url
    assert (call.method, call.json) == ("POST", {"order": 7})
