"""The sandbox's token endpoints: expiry, rotation, revocation and the call counter."""

from __future__ import annotations

import httpx
import pytest

from providers.registry import Catalog
from providers.sandbox import CLIENT_ID, CLIENT_SECRET, Sandbox
from providers.spec import OAuth2CodeAuth


def token_request(
    sandbox: Sandbox, catalog: Catalog, provider: str, basic: bool = False, **form: str
) -> httpx.Response:
    auth = catalog.get(provider).auth
    assert isinstance(auth, OAuth2CodeAuth)
    url = auth.token_url.replace("{instance_host}", "mycompany.my.salesforce.com")
    if basic:
        credentials: httpx.BasicAuth | None = httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET)
    else:
        credentials = None
        form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    with httpx.Client(transport=sandbox.transport()) as http:
        return http.post(url, data=form, auth=credentials)


def exchange(sandbox: Sandbox, catalog: Catalog, provider: str) -> dict[str, object]:
    response = token_request(
        sandbox, catalog, provider, grant_type="authorization_code", code="sandbox-code-1"
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_rotating_refresh_token_is_single_use(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """QuickBooks returns a new refresh token; replaying the old one is invalid_grant."""
    first = exchange(sandbox, sandboxed_catalog, "quickbooks")
    again = token_request(
        sandbox, sandboxed_catalog, "quickbooks", basic=True,
        grant_type="refresh_token", refresh_token=str(first["refresh_token"]),
    )  # fmt: skip
    assert again.status_code == 200
    assert again.json()["refresh_token"] != first["refresh_token"]
    assert again.json()["x_refresh_token_expires_in"] == 8726400
    replay = token_request(
        sandbox, sandboxed_catalog, "quickbooks", basic=True,
        grant_type="refresh_token", refresh_token=str(first["refresh_token"]),
    )  # fmt: skip
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert sandbox.token_calls("quickbooks") == 3


def test_non_rotating_refresh_keeps_the_refresh_token(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """HubSpot refreshes give a new access token and keep the same refresh token valid."""
    first = exchange(sandbox, sandboxed_catalog, "hubspot")
    assert first["expires_in"] == 1800
    for _ in range(2):
        response = token_request(
            sandbox, sandboxed_catalog, "hubspot",
            grant_type="refresh_token", refresh_token=str(first["refresh_token"]),
        )  # fmt: skip
        assert response.status_code == 200
        assert response.json()["refresh_token"] == first["refresh_token"]
        assert response.json()["access_token"] != first["access_token"]


@pytest.mark.parametrize("provider", ["hubspot", "quickbooks", "calendly", "google_calendar"])
def test_revoked_grant_is_invalid_grant(
    sandbox: Sandbox, sandboxed_catalog: Catalog, provider: str
) -> None:
    """After the user revokes access, refreshing answers 400 invalid_grant."""
    first = exchange(sandbox, sandboxed_catalog, provider)
    sandbox.revoke(provider)
    response = token_request(
        sandbox, sandboxed_catalog, provider, basic=provider == "quickbooks",
        grant_type="refresh_token", refresh_token=str(first["refresh_token"]),
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """A token request with a bad client secret is refused before any grant check."""
    response = token_request(
        sandbox, sandboxed_catalog, "hubspot",
        grant_type="authorization_code", code="sandbox-code-1", client_secret="nope",
    )  # fmt: skip
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_salesforce_and_slack_token_shapes(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """Salesforce returns instance_url without expires_in; Slack wraps tokens in ok=true."""
    salesforce = exchange(sandbox, sandboxed_catalog, "salesforce")
    assert "instance_url" in salesforce and "expires_in" not in salesforce
    slack = exchange(sandbox, sandboxed_catalog, "slack")
    assert slack["ok"] is True and "expires_in" not in slack


def test_authorize_redirects_back_with_code(sandbox: Sandbox) -> None:
    """The fake consent screen redirects to redirect_uri with a code and the state."""
    with httpx.Client(transport=sandbox.transport()) as http:
        response = http.get(
            "http://sandbox.test/hubspot/oauth/authorize",
            params={"redirect_uri": "https://app.example/cb", "state": "xyz"},
        )
    assert response.status_code == 302
    location = httpx.URL(response.headers["Location"])
    assert location.params["state"] == "xyz"
    assert location.params["code"].startswith("sandbox-code")


def test_control_api_sets_faults_and_reports_counts(sandbox: Sandbox) -> None:
    """/_sandbox routes configure faults and expose token-call counts to out-of-process tests."""
    with httpx.Client(transport=sandbox.transport(), base_url="http://sandbox.test") as http:
        assert http.post("/_sandbox/faults/stripe", json={"server_errors": 1}).status_code == 200
        failed = http.get("/stripe/v1/balance", headers={"Authorization": "Bearer sk_test_sandbox"})
        assert failed.status_code == 503
        assert http.get("/_sandbox/stats").json()["token_calls"] == {}
        assert http.get("/_sandbox/nope").status_code == 404
