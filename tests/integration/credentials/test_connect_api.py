"""Connect flows over HTTP: OAuth code flow with state and PKCE, direct modes, refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from storage.repositories.audit import AuditRepository
from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import auth, consent, error_field, start
from tests.integration.credentials.helpers import credential, event_types

PORTAL = {"portal_id": "62515"}


def test_oauth_code_flow_connects_and_stores_the_pair_encrypted(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Start, consent, callback: connected, tokens stored, audited, integration.connected."""
    started = start(client, keys["key_a"], account=PORTAL)
    query = parse_qs(urlsplit(started["authorize_url"]).query)
    assert query["state"] == [started["state"]] and query["client_id"] == ["sandbox-client"]
    answer = client.post(
        "/v1/connections/oauth/callback",
        json=consent(sandboxed, started["authorize_url"]),
        headers=auth(keys["key_a"]),
    )
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert sandboxed.sandbox is not None
    portal = str(sandboxed.sandbox.profiles["hubspot"].portal_id)  # type: ignore[attr-defined]
    assert view["status"] == "connected" and view["account_identifier"] == {"portal_id": portal}
    assert view["account_proof"] == {"value": portal, "how": "api"}  # the provider's, not typed
    assert view["credential"]["has_refresh_token"] and view["credential"]["expires_at"]
    stored = credential(sandboxed, keys["a"], view["id"])
    assert stored.access_token is not None and stored.access_token.reveal() not in answer.text
    assert "integration.connected" in event_types(sandboxed, keys["a"])
    with sandboxed.sessions() as session:
        actions = [e.action for e in AuditRepository(session, keys["a"]).list()]
    assert actions == ["connection.connected"]


def test_pkce_provider_gets_a_challenge_and_the_verifier_at_exchange(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Calendly (pkce: true): an S256 challenge in the URL; the flow still completes."""
    started = start(client, keys["key_a"], "calendly", account={"organization": "AAAAAAAAAAAA"})
    query = parse_qs(urlsplit(started["authorize_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    answer = client.post(
        "/v1/connections/oauth/callback",
        json=consent(sandboxed, started["authorize_url"]),
        headers=auth(keys["key_a"]),
    )
    assert answer.status_code == 201, answer.text


def test_browser_redirect_callback_needs_no_key(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """GET /oauth/callback (the provider's redirect) connects the org the state was bound to."""
    started = start(client, keys["key_a"], account=PORTAL)
    answer = client.get(
        "/v1/connections/oauth/callback", params=consent(sandboxed, started["authorize_url"])
    )
    assert answer.status_code == 201 and answer.json()["org_id"] == keys["a"]


def test_replayed_callback_is_refused(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """The same state and code a second time: 400 naming the state (single use)."""
    started = start(client, keys["key_a"], account=PORTAL)
    body = consent(sandboxed, started["authorize_url"])
    first = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"]))
    again = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"]))
    assert first.status_code == 201
    assert again.status_code == 400 and error_field(again) == "state"


def test_replayed_code_with_a_fresh_state_is_refused(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """A code already exchanged is refused even under a new, valid state."""
    first = start(client, keys["key_a"], account=PORTAL)
    used = consent(sandboxed, first["authorize_url"])
    assert (
        client.post(
            "/v1/connections/oauth/callback", json=used, headers=auth(keys["key_a"])
        ).status_code
        == 201
    )
    second = start(client, keys["key_a"], account=PORTAL)
    replay = {"state": second["state"], "code": used["code"]}
    answer = client.post("/v1/connections/oauth/callback", json=replay, headers=auth(keys["key_a"]))
    assert answer.status_code == 400 and error_field(answer) == "code"


def test_tampered_state_is_refused(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """A state altered by one character is unknown: 400 naming the state."""
    started = start(client, keys["key_a"], account=PORTAL)
    body = consent(sandboxed, started["authorize_url"])
    body["state"] = body["state"][:-1] + ("A" if body["state"][-1] != "A" else "B")
    answer = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"]))
    assert answer.status_code == 400 and error_field(answer) == "state"


def test_callback_with_another_orgs_key_is_refused_without_burning_the_state(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Org B cannot complete org A's flow (403); org A still can afterwards."""
    started = start(client, keys["key_a"], account=PORTAL)
    body = consent(sandboxed, started["authorize_url"])
    stolen = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_b"]))
    assert stolen.status_code == 403 and error_field(stolen) == "state"
    owner = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"]))
    assert owner.status_code == 201 and owner.json()["org_id"] == keys["a"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "shopify", "account": {"shop": "my shop!"}}, "account.shop"),
        ({"provider": "shopify", "account": {"shop": "a/b"}}, "account.shop"),
        ({"provider": "shopify", "account": {}}, "account.shop"),
        ({"provider": "shopify", "account": {"store": "acme"}}, "account.store"),
        (
            {
                "provider": "twilio",
                "account": {"account_sid": "AC1"},
                "username": "u",
                "password": "p",
            },
            "account.account_sid",
        ),
        ({"provider": "nope"}, "provider"),
        ({"provider": "hubspot"}, "provider"),
        ({"provider": "stripe"}, "api_key"),
        ({"provider": "stripe", "api_key": "k", "password": "p"}, "password"),
        ({"provider": "stripe", "api_key": "k", "name": "Bad Name"}, "name"),
        ({"provider": "stripe", "api_key": "k", "token": "x"}, "token"),
    ],
)
def test_bad_connect_requests_are_refused_naming_the_field(
    client: TestClient, keys: dict[str, str], body: dict[str, object], field: str
) -> None:
    """Malformed account identifiers, unknown providers, missing or stray secrets: 422."""
    answer = client.post("/v1/connections", json=body, headers=auth(keys["key_a"]))
    assert answer.status_code == 422, answer.text
    assert error_field(answer) == field


def test_malformed_account_identifier_is_refused_at_oauth_start(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A HubSpot portal id that is not digits is refused before any redirect."""
    answer = client.post(
        "/v1/connections/oauth/start",
        json={"provider": "hubspot", "account": {"portal_id": "12ab"}},
        headers=auth(keys["key_a"]),
    )
    assert answer.status_code == 422 and error_field(answer) == "account.portal_id"


def test_expired_state_is_refused(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Once the state's time is up (its Redis entry gone) the callback is refused: 400."""
    started = start(client, keys["key_a"], account=PORTAL)
    body = consent(sandboxed, started["authorize_url"])
    namespace = sandboxed.settings.workers.namespace
    sandboxed.redis.delete(f"{namespace}:oauth-state:{body['state']}")
    answer = client.post("/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"]))
    assert answer.status_code == 400 and error_field(answer) == "state"
    assert started["expires_in"] == sandboxed.settings.credentials.oauth_state_ttl_seconds


def test_provider_reported_error_on_redirect_is_a_clear_400(client: TestClient) -> None:
    """The user denied consent: the redirect carries error=access_denied, answered 400."""
    answer = client.get("/v1/connections/oauth/callback", params={"error": "access_denied"})
    assert answer.status_code == 400 and "access_denied" in answer.text
