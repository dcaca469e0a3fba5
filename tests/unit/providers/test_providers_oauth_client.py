"""TokenClient against the sandbox's token endpoints: exchange, refresh, rotation, errors."""

from __future__ import annotations

import httpx
import pytest

from providers.auth import AppCredentials, BearerToken, Pkce, TokenClient
from providers.client import ProviderClient
from providers.errors import AuthError, InvalidGrant, PermanentError, ServerError
from providers.registry import Catalog
from providers.sandbox import CLIENT_ID, CLIENT_SECRET, Sandbox

APP = AppCredentials(CLIENT_ID, CLIENT_SECRET)


def token_client(
    sandbox: Sandbox, catalog: Catalog, name: str, app: AppCredentials = APP
) -> TokenClient:
    account = {"instance_host": "mycompany.my.salesforce.com"} if name == "salesforce" else {}
    return TokenClient(catalog.get(name), app, account, sandbox.transport(), clock=lambda: 1000.0)


def test_code_exchange_then_api_call(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """An exchanged access token works against the API, and expiry follows expires_in."""
    tokens = token_client(sandbox, sandboxed_catalog, "hubspot").exchange_code(
        "sandbox-code-1", "https://app.example/cb"
    )
    assert tokens.expires_at == 1000.0 + 1800
    assert tokens.expires_within(1800, 1000.0) and not tokens.expires_within(60, 1000.0)
    client = ProviderClient(
        sandboxed_catalog.get("hubspot"), {"portal_id": "1"}, BearerToken(tokens.access_token),
        transport=sandbox.transport(),
    )  # fmt: skip
    assert client.get("/crm/v3/objects/contacts").status_code == 200


def test_rotating_refresh_returns_new_token_and_old_one_dies(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """QuickBooks (basic client auth) rotates: the old refresh token then fails invalid_grant."""
    client = token_client(sandbox, sandboxed_catalog, "quickbooks")
    first = client.exchange_code("sandbox-code-1", "https://app.example/cb")
    second = client.refresh(first.refresh_token or "")
    assert second.refresh_token and second.refresh_token != first.refresh_token
    with pytest.raises(InvalidGrant) as info:
        client.refresh(first.refresh_token or "")
    assert isinstance(info.value, PermanentError)
    assert sandbox.token_calls("quickbooks") == 3


def test_non_rotating_refresh_keeps_refresh_token_when_omitted(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """Google omits refresh_token on refresh; the TokenSet keeps the one we used."""
    client = token_client(sandbox, sandboxed_catalog, "google_calendar")
    first = client.exchange_code("sandbox-code-1", "https://app.example/cb")
    again = client.refresh(first.refresh_token or "")
    assert again.refresh_token == first.refresh_token
    assert again.access_token != first.access_token


def test_revoked_connection_is_invalid_grant(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """After revocation, refresh raises InvalidGrant (park the connection, do not retry)."""
    client = token_client(sandbox, sandboxed_catalog, "calendly")
    first = client.exchange_code("sandbox-code-1", "https://app.example/cb")
    sandbox.revoke("calendly")
    with pytest.raises(InvalidGrant):
        client.refresh(first.refresh_token or "")


def test_bad_client_secret_is_auth_error(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """A refused client registration is an AuthError, not invalid_grant."""
    client = token_client(sandbox, sandboxed_catalog, "hubspot", AppCredentials(CLIENT_ID, "nope"))
    with pytest.raises(AuthError):
        client.exchange_code("sandbox-code-1", "https://app.example/cb")


def test_token_endpoint_outage_is_transient(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """A 5xx from the token endpoint is a ServerError, retried like any outage."""
    sandbox.inject("hubspot", server_errors=1)
    with pytest.raises(ServerError):
        token_client(sandbox, sandboxed_catalog, "hubspot").refresh("whatever")


def test_salesforce_templated_token_url(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """The token URL is rendered from the account (Salesforce My Domain host)."""
    tokens = token_client(sandbox, sandboxed_catalog, "salesforce").exchange_code(
        "sandbox-code-1", "https://app.example/cb"
    )
    assert tokens.extra["instance_url"].startswith("https://")
    assert tokens.expires_at == 1000.0 + 7200  # from the catalog: Salesforce sends no expires_in


def test_authorize_url_has_scopes_state_and_pkce(sandboxed_catalog: Catalog) -> None:
    """The consent URL carries client id, joined scopes, state and the S256 challenge."""
    client = TokenClient(sandboxed_catalog.get("airtable"), APP)
    pkce = Pkce.new()
    url = httpx.URL(client.authorize_url("https://app.example/cb", "st8", pkce))
    assert url.params["client_id"] == CLIENT_ID and url.params["state"] == "st8"
    assert url.params["scope"].split(" ")[0] == "data.records:read"
    assert url.params["code_challenge"] == pkce.challenge
    assert url.params["code_challenge_method"] == "S256"


def test_secrets_stay_out_of_reprs() -> None:
    """App credentials and token sets never show secrets in their reprs."""
    assert "secret" not in repr(AppCredentials("id", "very-secret"))
    from providers.auth import TokenSet

    assert "tok" not in repr(TokenSet(access_token="tok-1", refresh_token="tok-2"))


def test_non_oauth_provider_is_refused(sandboxed_catalog: Catalog) -> None:
    """A TokenClient cannot be built for an API-key provider."""
    with pytest.raises(TypeError, match="does not use OAuth2"):
        TokenClient(sandboxed_catalog.get("stripe"), APP)
