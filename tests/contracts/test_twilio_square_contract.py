"""Twilio and Square requests checked against their documented contracts.

No package ships either provider's OpenAPI document, so these follow the reference pages:
https://www.twilio.com/docs/messaging/api/message-resource (``MediaUrl`` repeated, up to 10)
and https://developer.squareup.com/reference/square/catalog-api/list-catalog (``cursor`` and
``types``; no page size).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import ValidationError

from providers.auth import BasicCredential
from providers.client import ProviderClient
from providers.pagination import first_request, next_request
from providers.registry import Catalog
from providers.syncs.spec import load_sync_models
from tests.contracts.action_options import OPTIONS
from workers.actions import ActionEnv, action_for

SID = "AC" + "a" * 32
MEDIA = ["https://example.com/a.png", "https://example.com/b.png"]


def _sent_form(catalog: Catalog, name: str, params: dict[str, object]) -> dict[str, list[str]]:
    action = action_for("twilio", name)
    assert action is not None
    (call,) = action.calls(action.input.model_validate(params), ActionEnv("k1", OPTIONS))
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM1", "status": "queued"})

    client = ProviderClient(
        catalog.get("twilio"),
        {"account_sid": SID},
        BasicCredential(SID, "token"),
        transport=httpx.MockTransport(answer),
    )
    client.request(call.method, call.path, data=call.data)
    (request,) = seen
    assert request.url.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    return parse_qs(request.content.decode())


def test_an_mms_sends_every_media_url_as_its_own_field(catalog: Catalog) -> None:
    """send_sms with two media URLs repeats MediaUrl twice on the wire (not MediaUrl[0])."""
    params = {"to": "+390612345678", "from": "+14155550199", "body": "hi", "media_url": MEDIA}
    form = _sent_form(catalog, "send_sms", params)
    assert form["MediaUrl"] == MEDIA
    assert form["To"] == ["+390612345678"] and form["Body"] == ["hi"]
    assert not [key for key in form if key.startswith("MediaUrl[")]


def test_one_media_url_as_text_is_still_accepted(catalog: Catalog) -> None:
    """A single media URL may be given as a string."""
    params = {"to": "+14155550100", "from": "+14155550199", "body": "hi", "media_url": MEDIA[0]}
    assert _sent_form(catalog, "send_sms", params)["MediaUrl"] == MEDIA[:1]


def test_media_limits_follow_the_channel() -> None:
    """Twilio takes at most 10 media URLs; WhatsApp one per message; each must be https."""
    sms = action_for("twilio", "send_sms")
    whatsapp = action_for("twilio", "send_whatsapp")
    assert sms is not None and whatsapp is not None
    base = {"to": "+14155550100", "from": "+14155550199", "body": "hi"}
    with pytest.raises(ValidationError, match="media_url"):
        sms.input.model_validate({**base, "media_url": [MEDIA[0]] * 11})
    with pytest.raises(ValidationError, match="media_url"):
        whatsapp.input.model_validate({**base, "media_url": MEDIA})
    with pytest.raises(ValidationError, match="media_url"):
        sms.input.model_validate({**base, "media_url": ["http://example.com/a.png"]})


def test_square_catalog_sync_sends_no_page_size() -> None:
    """ListCatalog takes no limit: the catalog sync's pages carry only the cursor."""
    spec = load_sync_models().get("square", "catalog")
    assert spec.pagination is not None
    first = first_request(spec.path, spec.params, spec.pagination, spec.page_size)
    assert first["params"] == {}
    following = next_request(
        spec.pagination, first, {"cursor": "c2"}, [{}], next_link=None, base_url="", page_size=None
    )
    assert following == {"url": "/catalog/list", "params": {"cursor": "c2"}}
