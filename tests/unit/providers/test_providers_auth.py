"""Auth strategies and request hooks: where each credential lands on the wire."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from providers.auth import (
    AdminSecrets,
    ApiKey,
    BasicCredential,
    BearerToken,
    admin_secrets_from_settings,
    auth_for,
)
from providers.client import ProviderClient
from providers.errors import PermanentError
from providers.registry import Catalog


class Recorder:
    """A transport that records the last request and answers 200 {}."""

    def __init__(self) -> None:
        self.request: httpx.Request | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        return httpx.Response(200, json={"ok": True})

    def sent(self) -> httpx.Request:
        assert self.request is not None
        return self.request


def send(
    catalog: Catalog, name: str, account: dict[str, str], credential: Any, **kw: Any
) -> httpx.Request:
    recorder = Recorder()
    client = ProviderClient(
        catalog.get(name), account, credential, transport=httpx.MockTransport(recorder)
    )
    client.request(kw.pop("method", "GET"), kw.pop("path", "/x"), **kw)
    return recorder.sent()


def test_bearer_token_in_authorization_header(catalog: Catalog) -> None:
    """OAuth providers get 'Authorization: Bearer <token>'."""
    sent = send(catalog, "hubspot", {"portal_id": "1"}, BearerToken("tok-123"))
    assert sent.headers["Authorization"] == "Bearer tok-123"


def test_custom_prefix_and_header(catalog: Catalog) -> None:
    """Zoho's 'Zoho-oauthtoken' prefix and BigCommerce's X-Auth-Token header are honoured."""
    zoho = send(catalog, "zoho_crm", {"dc": "eu"}, BearerToken("z"))
    assert zoho.headers["Authorization"] == "Zoho-oauthtoken z"
    assert zoho.url.host == "www.zohoapis.eu"
    big = send(catalog, "bigcommerce", {"store_hash": "abc123xyz"}, ApiKey("k"))
    assert big.headers["X-Auth-Token"] == "k" and "Authorization" not in big.headers


def test_telegram_token_is_a_path_segment(catalog: Catalog) -> None:
    """Telegram's bot token goes into the path: /bot<token>/getMe."""
    sent = send(catalog, "telegram", {}, ApiKey("123:ABC"), path="/getMe")
    assert sent.url.path == "/bot123:ABC/getMe"


def test_basic_auth_with_fixed_username(catalog: Catalog) -> None:
    """Mailgun's basic auth uses the fixed username 'api' whatever the credential says."""
    sent = send(catalog, "mailgun", {}, BasicCredential("ignored", "key-1"))
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"api:key-1").decode()


def test_admin_credential_templates(catalog: Catalog) -> None:
    """Admin secrets are rendered into the header or basic pair the entry declares."""
    shopify = send(catalog, "shopify", {"shop": "acme"}, AdminSecrets({"access_token": "shpat_1"}))
    assert shopify.headers["X-Shopify-Access-Token"] == "shpat_1"
    assert shopify.url.host == "acme.myshopify.com"
    whatsapp = send(
        catalog, "whatsapp_twilio", {}, AdminSecrets({"account_sid": "AC1", "auth_token": "t"})
    )
    assert whatsapp.headers["Authorization"] == "Basic " + base64.b64encode(b"AC1:t").decode()


def test_wrong_credential_kind_is_a_type_error(catalog: Catalog) -> None:
    """Passing an API key to an OAuth provider is a programming error, caught early."""
    with pytest.raises(TypeError, match="needs a BearerToken"):
        auth_for(catalog.get("hubspot"), ApiKey("k"))
    with pytest.raises(TypeError, match="admin secrets missing"):
        auth_for(catalog.get("shopify"), AdminSecrets({}))


def test_admin_secrets_from_settings(catalog: Catalog) -> None:
    """Declared secrets are picked from settings; a missing required one names its variable."""
    spec = catalog.get("openai")
    secrets = admin_secrets_from_settings(spec, {"api_key": "sk-1", "base_url": "x"})
    assert dict(secrets.values) == {"api_key": "sk-1"}
    with pytest.raises(PermanentError, match="SWITCHYARD_PROVIDERS__OPENAI__API_KEY"):
        admin_secrets_from_settings(spec, {})


def test_credential_reprs_are_masked() -> None:
    """No credential repr shows its secret."""
    for credential in (
        BearerToken("s3cret-value"),
        ApiKey("s3cret-value"),
        BasicCredential("user", "s3cret-value"),
        AdminSecrets({"k": "s3cret-value"}),
    ):
        assert "s3cret" not in repr(credential)


def test_authorize_net_credentials_move_into_the_body(catalog: Catalog) -> None:
    """The authorize_net hook puts login and key into merchantAuthentication, not a header."""
    sent = send(
        catalog, "authorize_net", {}, BasicCredential("login-1", "key-1"),
        method="POST", path="", json={"getMerchantDetailsRequest": {"refId": "7"}},
    )  # fmt: skip
    assert "Authorization" not in sent.headers
    body = json.loads(sent.content)
    inner = body["getMerchantDetailsRequest"]
    assert list(inner) == ["merchantAuthentication", "refId"]
    assert inner["merchantAuthentication"] == {"name": "login-1", "transactionKey": "key-1"}


def test_quickbooks_paging_params_move_into_the_query(catalog: Catalog) -> None:
    """The quickbooks hook rewrites startposition/maxresults into the query text."""
    sent = send(
        catalog, "quickbooks", {"realm_id": "1"}, BearerToken("t"), path="/query",
        params={"query": "select * from Customer", "startposition": 11, "maxresults": 10},
    )  # fmt: skip
    assert sent.url.params["query"] == "select * from Customer STARTPOSITION 11 MAXRESULTS 10"
    assert "startposition" not in sent.url.params


def test_absolute_url_to_another_host_is_refused(catalog: Catalog) -> None:
    """A next-page URL pointing at another host never receives our credential."""
    recorder = Recorder()
    client = ProviderClient(
        catalog.get("hubspot"), {"portal_id": "1"}, BearerToken("t"),
        transport=httpx.MockTransport(recorder),
    )  # fmt: skip
    with pytest.raises(PermanentError, match="refusing URL"):
        client.get("https://evil.example/steal")
    assert recorder.request is None
