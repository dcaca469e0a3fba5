"""Direct connect modes, list/show/check/disconnect over HTTP, reconnect and replay, and no
secret in any response or log line along the way."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from providers.sandbox.profiles.messaging import TWILIO_SID, TWILIO_TOKEN
from storage.repositories.audit import AuditRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.dead_jobs import DeadJobFilter
from storage.types import utcnow
from switchyard.api.app import create_app
from switchyard.runtime import SANDBOX_ROOT, Runtime
from switchyard.services.dead_jobs import Selection, replay
from tests.conftest import sandboxed_runtime
from tests.integration.credentials.api_helpers import auth, consent, org_keys, start
from tests.integration.credentials.helpers import credential, dead, event_types, proxy_job
from workers.inprocess import run_until_idle

GENERIC = f"{SANDBOX_ROOT}/generic"
PAYPAL_ON_SANDBOX = {
    "paypal": {
        "base_url": GENERIC,
        "token_url": f"{GENERIC}/oauth/token",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
}


@pytest.fixture(params=["embedded", "servers"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """The sandboxed runtime, with PayPal (client credentials) pointed at the generic fake."""
    yield from sandboxed_runtime(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=PAYPAL_ON_SANDBOX,
        max_retries=2,
    )


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as test_client:
        yield test_client


@pytest.fixture
def keys(rt: Runtime) -> dict[str, str]:
    return org_keys(rt)


def connect(client: TestClient, key: str, **body: object) -> dict[str, object]:
    answer = client.post("/v1/connections", json=body, headers=auth(key))
    assert answer.status_code == 201, answer.text
    data: dict[str, object] = answer.json()
    return data


def check(client: TestClient, key: str, connection_id: object) -> dict[str, object]:
    answer = client.post(f"/v1/connections/{connection_id}/check", headers=auth(key))
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()
    return data


def test_api_key_connection_checks_ok_and_a_wrong_key_fails_the_check(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Stripe with the right key checks ok; with a wrong key the check says auth refused."""
    good = connect(client, keys["key_a"], provider="stripe", api_key="sk_test_sandbox")
    assert check(client, keys["key_a"], good["id"])["ok"] is True
    bad = connect(client, keys["key_a"], provider="stripe", name="other", api_key="sk_test_wrong")
    result = check(client, keys["key_a"], bad["id"])
    assert result["ok"] is False and result["error_class"] == "auth"


def test_basic_connection_checks_ok(client: TestClient, keys: dict[str, str]) -> None:
    """Twilio basic auth (account SID + auth token) checks ok against the sandbox."""
    view = connect(
        client,
        keys["key_a"],
        provider="twilio",
        account={"account_sid": TWILIO_SID},
        username=TWILIO_SID,
        password=TWILIO_TOKEN,
    )
    assert check(client, keys["key_a"], view["id"])["ok"] is True


def test_admin_credential_connection_needs_only_the_account_identifier(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Shopify: the org gives its shop name; the operator's token (settings) does the rest."""
    view = connect(client, keys["key_a"], provider="shopify", account={"shop": "acme"})
    assert view["credential"] is None and view["account_identifier"] == {"shop": "acme"}
    assert check(client, keys["key_a"], view["id"])["ok"] is True


def test_client_credentials_token_is_fetched_cached_and_renewed_before_expiry(
    rt: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """PayPal: one app token at connect; jobs reuse it; near expiry one renewal, not more."""
    assert rt.sandbox is not None
    view = connect(client, keys["key_a"], provider="paypal")
    assert rt.sandbox.token_calls("generic") == 1
    job = {**proxy_job(keys["a"]), "provider": "paypal"}
    job["payload"] = {"action": "proxy", "input": {"path": "/me"}}
    for _ in range(3):
        rt.enqueuer.enqueue(job)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    assert rt.sandbox.token_calls("generic") == 1, "cached: no new token for fresh jobs"
    with rt.sessions.begin() as session:
        repo = CredentialRepository(session, keys["a"], rt.keyring)
        current = repo.load(str(view["id"]))
        assert current.access_token is not None
        repo.update_tokens(
            str(view["id"]),
            expected_version=current.version,
            access_token=current.access_token,
            expires_at=utcnow(),
        )
    for _ in range(3):
        rt.enqueuer.enqueue(job)
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    assert rt.sandbox.token_calls("generic") == 2 and dead(rt, keys["a"]) == []


def test_list_show_and_disconnect_then_reconnect_and_replay(
    rt: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Disconnect parks jobs; after a reconnect they replay to success; all audited."""
    started = start(client, keys["key_a"], account={"portal_id": "62515"})
    body = consent(rt, started["authorize_url"])
    view = client.post(
        "/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"])
    ).json()
    listed = client.get("/v1/connections", headers=auth(keys["key_a"])).json()["items"]
    assert [c["id"] for c in listed] == [view["id"]]
    assert (
        client.get(f"/v1/connections/{view['id']}", headers=auth(keys["key_b"])).status_code == 404
    )
    gone = client.delete(f"/v1/connections/{view['id']}", headers=auth(keys["key_a"]))
    assert gone.status_code == 200 and gone.json()["status"] == "disconnected"
    assert gone.json()["credential"] is None
    rt.enqueuer.enqueue(proxy_job(keys["a"]))
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    [parked] = dead(rt, keys["a"])
    assert parked.error_class == "connection_error"
    again = start(client, keys["key_a"], account={"portal_id": "62515"})
    body = consent(rt, again["authorize_url"])
    assert (
        client.post(
            "/v1/connections/oauth/callback", json=body, headers=auth(keys["key_a"])
        ).status_code
        == 201
    )
    report = replay(
        rt.sessions,
        rt.enqueuer.enqueue,
        Selection(where=DeadJobFilter(org_id=keys["a"])),
        actor="t",
    )
    assert len(report.replayed) == 1
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    assert len(dead(rt, keys["a"])) == 1, "the replayed job succeeded after the reconnect"
    events = event_types(rt, keys["a"])
    assert events.count("integration.connected") == 2 and "integration.disconnected" in events
    with rt.sessions() as session:
        actions = [e.action for e in AuditRepository(session, keys["a"]).list()]
    assert actions.count("connection.connected") == 2 and "connection.disconnected" in actions


def test_no_secret_in_any_response_or_log_line(
    rt: Runtime, client: TestClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """No token, key or client secret in any response or log line across every flow."""
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    def keep(response: httpx.Response) -> httpx.Response:
        bodies.append(response.text)
        return response

    started = start(client, keys["key_a"], account={"portal_id": "62515"})
    flow = consent(rt, started["authorize_url"])
    view = keep(
        client.post("/v1/connections/oauth/callback", json=flow, headers=auth(keys["key_a"]))
    ).json()
    keep(
        client.post(
            "/v1/connections",
            json={"provider": "stripe", "api_key": "sk_test_sandbox"},
            headers=auth(keys["key_a"]),
        )
    )
    rt.enqueuer.enqueue({**proxy_job(keys["a"]), "kind": "refresh", "payload": {"force": True}})
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=20)
    keep(client.get("/v1/connections", headers=auth(keys["key_a"])))
    keep(client.get(f"/v1/connections/{view['id']}", headers=auth(keys["key_a"])))
    keep(client.post(f"/v1/connections/{view['id']}/check", headers=auth(keys["key_a"])))
    stored = credential(rt, keys["a"], view["id"])
    keep(client.delete(f"/v1/connections/{view['id']}", headers=auth(keys["key_a"])))
    assert rt.sandbox is not None
    secrets = ["sk_test_sandbox", "sandbox-secret", flow["code"]]
    secrets += [t.access_token for t in rt.sandbox.tokens.by_access.values()]
    secrets += [t.refresh_token for t in rt.sandbox.tokens.by_access.values() if t.refresh_token]
    assert stored.access_token is not None and stored.access_token.reveal() in secrets
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in secrets:
        assert all(secret not in body for body in bodies), "secret in an API response"
        assert secret not in logged, "secret in a log record"
