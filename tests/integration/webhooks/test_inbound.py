"""POST /webhooks/{provider}: every scheme's good, bad, missing, stale and replayed
signatures; routing, deduplication, publication as an event; clear 4xx for the rest."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import delete, select

from storage.models import InboundWebhook
from storage.repositories import EventRepository
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.webhooks.conftest import webhook_runtime
from tests.integration.webhooks.inbound_cases import CASES, Case
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration
OPERATOR = {c.provider: {"webhook_secret": c.secret} for c in CASES if not c.route_by_connection}
OPERATOR["facebook_messenger"]["verify_token"] = "let-me-in"
TIMESTAMPED = [c for c in CASES if c.timestamped]


@dataclasses.dataclass
class World:
    runtime: Runtime
    client: TestClient
    org: str
    connections: dict[str, str]
    accounts: dict[str, str]

    def case(self, case: Case) -> Case:
        """The case with this world's account and receiving path (by connection id where the
        payload names no account)."""
        path = f"/webhooks/{case.provider}"
        if case.route_by_connection:
            path += f"/{self.connections[case.provider]}"
        return dataclasses.replace(case, path=path, account=self.accounts[case.provider])

    def post(self, case: Case, body: bytes, headers: dict[str, str]) -> Response:
        return self.client.post(case.path, content=body, headers=headers)

    def events(self) -> list[Any]:
        with self.runtime.sessions() as session:
            return list(EventRepository(session, self.org).list())


@pytest.fixture(params=["embedded", "servers"])
def world(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[World]:
    """An org with one connection per provider, its account proven by the provider (as a
    connect flow records it); operator or connection secrets as cased."""
    runtime = webhook_runtime(request, tmp_path, namespace, request.param, providers=OPERATOR)
    token = uuid.uuid4().hex[:10]
    accounts = {case.provider: case.new_account(token) for case in CASES}
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("inbound")).id
        connections = {}
        for case in CASES:
            repo = ConnectionRepository(session, org)
            conn = repo.create(
                case.provider, account_identifier={case.key: accounts[case.provider]}
            )
            repo.set_account_proof(conn.id, accounts[case.provider], "token_response")
            connections[case.provider] = conn.id
            if case.route_by_connection:
                CredentialRepository(session, org, runtime.keyring).store(
                    conn.id, auth_mode="webhook", secret=case.secret
                )
    with TestClient(create_app(runtime)) as client:
        yield World(runtime, client, org, connections, accounts)
    runtime.close()


ids = [c.provider for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_good_signature_is_accepted_and_published(world: World, case: Case) -> None:
    """200 at once; the inbound job publishes the payload as an event with source inbound."""
    case = world.case(case)
    response = world.post(case, *case.signed())
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    [event] = world.events()
    assert (event.type, event.source) == (case.topic, "inbound")
    assert event.data["provider"] == case.provider and event.data["payload"]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_bad_signature_is_refused(world: World, case: Case) -> None:
    """A signature made with another secret, or over another body, is a 401."""
    case = world.case(case)
    body, headers = case.signed(secret="not-the-secret")
    if case.provider == "custom_webhook":
        body, headers = case.signed(secret="whsec_" + "A" * 32)
    wrong = world.post(case, body, headers)
    assert wrong.status_code == 401 and "bad" in wrong.json()["error"]["message"]
    body, headers = case.signed()
    tampered = world.post(case, body.replace(b"1", b"2"), headers)
    assert tampered.status_code == 401
    assert world.events() == []


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_missing_signature_is_refused(world: World, case: Case) -> None:
    """No signature header: 401 naming the header."""
    case = world.case(case)
    body, headers = case.signed()
    del headers[case.signature_header]
    response = world.post(case, body, headers)
    assert response.status_code == 401
    assert "missing" in response.json()["error"]["message"].lower()


@pytest.mark.parametrize("case", TIMESTAMPED, ids=[c.provider for c in TIMESTAMPED])
def test_stale_signature_is_refused(world: World, case: Case) -> None:
    """A correct signature over a timestamp ten minutes old is a 401 (stale)."""
    case = world.case(case)
    response = world.post(case, *case.signed(now=time.time() - 600))
    assert response.status_code == 401
    assert (
        "stale" in response.json()["error"]["message"]
        or "too old" in response.json()["error"]["message"]
    )


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_byte_identical_retry_is_a_duplicate(world: World, case: Case) -> None:
    """The very same signed request again (a provider retrying) is a 200 duplicate; one event."""
    case = world.case(case)
    body, headers = case.signed()
    assert world.post(case, body, headers).status_code == 200
    again = world.post(case, body, headers)
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 0, "duplicates": 1}
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    assert len(world.events()) == 1


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_replayed_signature_of_an_event_not_held_is_refused(world: World, case: Case) -> None:
    """A used signature presented for an event we no longer hold is a 409, not a new event."""
    case = world.case(case)
    body, headers = case.signed()
    assert world.post(case, body, headers).status_code == 200
    with world.runtime.sessions.begin() as session:
        session.execute(delete(InboundWebhook).where(InboundWebhook.org_id == world.org))
    again = world.post(case, body, headers)
    assert again.status_code == 409 and "replayed" in again.json()["error"]["message"]


@pytest.mark.parametrize("case", TIMESTAMPED, ids=[c.provider for c in TIMESTAMPED])
def test_provider_retry_is_deduplicated_by_event_id(world: World, case: Case) -> None:
    """The same event signed afresh (a provider's retry) is a 200 duplicate, not a new job."""
    case = world.case(case)
    assert world.post(case, *case.signed(now=time.time() - 5)).json()["accepted"] == 1
    retry = world.post(case, *case.signed())
    assert retry.status_code == 200 and retry.json() == {"accepted": 0, "duplicates": 1}


def test_unknown_unsupported_and_silent_providers_are_404(world: World) -> None:
    """Unknown names, providers without webhooks and schemes not supported say so."""
    for provider, words in (
        ("nope", "unknown"),
        ("zapier", "no webhooks"),
        ("typeform", "not supported"),
    ):
        response = world.client.post(f"/webhooks/{provider}", content=b"{}")
        assert response.status_code == 404 and words in response.json()["error"]["message"]


def test_oversize_body_is_413(world: World) -> None:
    """A body over the limit is refused before anything else is read."""
    case = world.case(CASES[0])
    limit = world.runtime.settings.webhooks.inbound_max_body_bytes
    response = world.client.post(case.path, content=b"x" * (limit + 1))
    assert response.status_code == 413 and str(limit) in response.json()["error"]["message"]


def test_malformed_body_is_400_and_unrouted_account_404(world: World) -> None:
    """Signed garbage is a 400; a signed event for an account nobody connected is a 404."""
    case = world.case(CASES[0])  # stripe
    headers = case.signer(case, b"not json", case.secret, time.time())
    assert world.post(case, b"not json", headers).status_code == 400
    other = dataclasses.replace(case, account="acct_nobody12345")
    response = world.post(other, *other.signed())
    assert response.status_code == 404 and "acct_nobody12345" in response.json()["error"]["message"]
    unknown_connection = world.client.post(
        "/webhooks/calendly/" + "f" * 32,
        content=b"{}",
        headers={"calendly-webhook-signature": "t=1,v1=x"},
    )
    assert unknown_connection.status_code == 404


def test_meta_subscription_handshake(world: World) -> None:
    """GET with the right verify token echoes hub.challenge; a wrong one is 403."""
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": "let-me-in",
    }
    good = world.client.get("/webhooks/facebook_messenger", params=params)
    assert good.status_code == 200 and good.text == "1158201444"
    bad = world.client.get(
        "/webhooks/facebook_messenger", params={**params, "hub.verify_token": "x"}
    )
    assert bad.status_code == 403


def test_slack_url_verification_is_answered(world: World) -> None:
    """Slack's signed url_verification handshake gets its challenge back, and is neither
    stored nor published as an event."""
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"type": "url_verification", "challenge": challenge, "token": "x"})
    case = dataclasses.replace(world.case(CASES[2]), body_of=lambda n, a: body.encode())
    response = world.post(case, *case.signed())
    assert response.status_code == 200
    assert response.json() == {"challenge": challenge}
    assert world.post(case, *case.signed()).json() == {"challenge": challenge}
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    with world.runtime.sessions() as session:
        stored = session.scalars(
            select(InboundWebhook).where(InboundWebhook.org_id == world.org)
        ).all()
    assert (stored, world.events()) == ([], [])


def test_secrets_stay_out_of_answers_and_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Refusals never echo a secret, and nothing logged contains one."""
    caplog.set_level(logging.DEBUG)
    texts = []
    for case in CASES:
        case = world.case(case)
        wrong = "whsec_" + "B" * 32 if case.provider == "custom_webhook" else "wrong"
        texts.append(world.post(case, *case.signed(secret=wrong)).text)
        texts.append(world.post(case, *case.signed()).text)
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for case in CASES:
        assert all(case.secret not in text for text in texts) and case.secret not in logged


def test_connection_secret_or_operator_secret_verifies(world: World) -> None:
    """A connection's own secret and the operator's app secret are both accepted."""
    case = world.case(CASES[0])  # stripe, operator secret configured
    with world.runtime.sessions.begin() as session:
        CredentialRepository(session, world.org, world.runtime.keyring).store(
            world.connections["stripe"], auth_mode="api_key", secret="conn-own-secret"
        )
    assert world.post(case, *case.signed(n=1, secret="conn-own-secret")).status_code == 200
    assert world.post(case, *case.signed(n=2)).status_code == 200
    assert world.post(case, *case.signed(n=3, secret="neither")).status_code == 401


@pytest.mark.parametrize("index", [0, 1])  # stripe, shopify
def test_an_org_claiming_another_orgs_account_receives_none_of_its_webhooks(
    world: World, index: int
) -> None:
    """A connection that only typed another org's account id (unproven) gets no events."""
    case = world.case(CASES[index])
    with world.runtime.sessions.begin() as session:
        other = OrganizationRepository(session).create(unique("claimer")).id
        ConnectionRepository(session, other).create(
            case.provider, account_identifier=case.identifier
        )
    response = world.post(case, *case.signed())
    assert response.json() == {"accepted": 1, "duplicates": 0}
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    with world.runtime.sessions() as session:
        assert list(EventRepository(session, other).list()) == []
    assert len(world.events()) == 1


def test_every_org_sharing_a_proven_account_gets_the_webhook(world: World) -> None:
    """Where the operator allows a shared account, each proven holder gets its own copy."""
    case = world.case(CASES[1])  # shopify
    with world.runtime.sessions.begin() as session:
        ConnectionRepository(session, world.org).set_account_proof(
            world.connections["shopify"], case.account, "operator", shared=True
        )
        other = OrganizationRepository(session).create(unique("other")).id
        repo = ConnectionRepository(session, other)
        conn = repo.create("shopify", account_identifier=case.identifier)
        repo.set_account_proof(conn.id, case.account, "operator", shared=True)
    response = world.post(case, *case.signed())
    assert response.json() == {"accepted": 2, "duplicates": 0}
    run_until_idle(world.runtime.worker_broker, world.runtime.lanes, timeout_s=30)
    with world.runtime.sessions() as session:
        theirs = EventRepository(session, other).list()
    assert [e.type for e in theirs] == ["shopify.orders.create"] and len(world.events()) == 1
