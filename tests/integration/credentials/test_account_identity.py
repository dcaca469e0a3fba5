"""Account identity from the provider (#20 item 4) and proven ownership for inbound routing
(#17 item 2): every connect flow records what the provider returns, a connection is
``connected`` only with every required identifier, and one org cannot take another's
account by typing its id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from providers.sandbox import Sandbox
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.credentials.api_helpers import auth, consent, error_field, org_keys, start

STRIPE_KEY = "sk_test_sandbox"  # the key the sandbox accepts (not a secret)


def _callback(client: TestClient, rt: Runtime, key: str, started: dict[str, Any], **extra: Any):  # type: ignore[no-untyped-def]
    body = {**consent(rt, started["authorize_url"]), **extra}
    return client.post("/v1/connections/oauth/callback", json=body, headers=auth(key))


def _profile(rt: Runtime, name: str) -> Any:
    assert rt.sandbox is not None
    return rt.sandbox.profiles[name]


def test_slack_team_id_comes_from_the_token_response(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Slack OAuth without a typed team: the token response's team.id is recorded, proven."""
    started = start(client, keys["key_a"], "slack")
    answer = _callback(client, sandboxed, keys["key_a"], started)
    assert answer.status_code == 201, answer.text
    view = answer.json()
    team = _profile(sandboxed, "slack").team_id
    assert view["status"] == "connected" and view["account_identifier"] == {"team_id": team}
    assert view["account_proof"] == {"value": team, "how": "token_response"}


def test_a_missing_required_identifier_leaves_the_connection_in_error_naming_it(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """QuickBooks without realmId on the redirect: status error, the message names realm_id."""
    started = start(client, keys["key_a"], "quickbooks")
    answer = _callback(client, sandboxed, keys["key_a"], started)
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert view["status"] == "error" and "'realm_id'" in view["error_message"]
    assert view["account_proof"] is None


def test_a_callback_identifier_is_proven_by_a_call_on_that_account(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """realmId relayed from the redirect is recorded and proven once the company answers."""
    started = start(client, keys["key_a"], "quickbooks")
    answer = _callback(
        client, sandboxed, keys["key_a"], started, callback={"realmId": "4620816365"}
    )
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert view["status"] == "connected"
    assert view["account_proof"] == {"value": "4620816365", "how": "callback"}


def test_square_merchant_id_comes_with_the_token(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Square's merchant_id is read from the token response, not typed."""
    square = _callback(client, sandboxed, keys["key_a"], start(client, keys["key_a"], "square"))
    assert square.status_code == 201, square.text
    merchant = "ML" + _profile(sandboxed, "square").account_tag
    assert square.json()["account_identifier"] == {"merchant_id": merchant}
    assert square.json()["account_proof"] == {"value": merchant, "how": "token_response"}


def _connect_stripe(client: TestClient, key: str, **body: Any):  # type: ignore[no-untyped-def]
    payload = {"provider": "stripe", "api_key": STRIPE_KEY, **body}
    return client.post("/v1/connections", json=payload, headers=auth(key))


def test_a_second_org_cannot_hold_another_orgs_proven_account(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Org B proves acct_X; org A claiming it gets 409 account.account_id until B disconnects."""
    acct = "acct_1" + uuid.uuid4().hex[:16]
    owner = _connect_stripe(client, keys["key_b"], account={"account_id": acct})
    assert owner.status_code == 201, owner.text
    assert owner.json()["account_proof"] == {"value": acct, "how": "api"}
    claim = _connect_stripe(client, keys["key_a"], account={"account_id": acct})
    assert claim.status_code == 409 and error_field(claim) == "account.account_id"
    released = client.delete(f"/v1/connections/{owner.json()['id']}", headers=auth(keys["key_b"]))
    assert released.status_code == 200 and released.json()["account_proof"] is None
    again = _connect_stripe(client, keys["key_a"], account={"account_id": acct})
    assert again.status_code == 201, again.text  # a disconnected holder releases the account


def test_an_account_the_credential_cannot_reach_is_not_connected(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Twilio: an account SID other than the credential's is refused by the provider (409)."""
    from providers.sandbox.profiles.messaging import TWILIO_SID, TWILIO_TOKEN

    other = "AC" + "b" * 32
    body = {"provider": "twilio", "username": TWILIO_SID, "password": TWILIO_TOKEN}
    refused = client.post(
        "/v1/connections",
        json={**body, "account": {"account_sid": other}},
        headers=auth(keys["key_a"]),
    )
    assert refused.status_code == 409 and error_field(refused) == "account"


@pytest.fixture
def sharing(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A sandboxed runtime whose operator allows Stripe accounts to be shared."""
    base = runtime_settings(
        backend="embedded", tmp_path=tmp_path, namespace=namespace, request=request
    )
    shared = base.credentials.model_copy(update={"shared_account_providers": ["stripe"]})
    rt = build_runtime(base.model_copy(update={"credentials": shared}), sandbox=Sandbox(seed=1))
    yield rt
    rt.close()


def test_the_operator_may_allow_orgs_to_share_a_proven_account(sharing: Runtime) -> None:
    """With stripe in shared_account_providers both orgs hold acct_X, each proven."""
    acct = "acct_1" + uuid.uuid4().hex[:16]
    keys = org_keys(sharing)
    with TestClient(create_app(sharing)) as client:
        first = _connect_stripe(client, keys["key_b"], account={"account_id": acct})
        second = _connect_stripe(client, keys["key_a"], account={"account_id": acct})
    assert first.status_code == second.status_code == 201, second.text
    assert second.json()["account_proof"] == {"value": acct, "how": "api"}


def test_an_admin_key_attests_what_it_types(
    sandboxed: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Shopify (admin credential): an org key's shop is unproven, the operator's is proven."""
    shop = "shop-" + uuid.uuid4().hex[:12]
    tenant = client.post(
        "/v1/connections",
        json={"provider": "shopify", "account": {"shop": shop}},
        headers=auth(keys["key_a"]),
    )
    assert tenant.status_code == 201, tenant.text
    assert tenant.json()["account_proof"] is None and tenant.json()["status"] == "connected"
    operator = client.post(
        "/v1/connections",
        json={"provider": "shopify", "org_id": keys["b"], "account": {"shop": shop}},
        headers=auth(keys["admin"]),
    )
    assert operator.status_code == 201, operator.text
    assert operator.json()["account_proof"] == {"value": shop, "how": "operator"}
