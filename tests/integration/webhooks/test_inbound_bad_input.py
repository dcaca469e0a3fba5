"""The public inbound routes refuse malformed bodies with 4xx, never 500 (issue 17, 5):
deep JSON before any signature parsing, and non-string account ids once signed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from tests.conftest import unique
from tests.integration.webhooks.conftest import webhook_runtime
from tests.integration.webhooks.inbound_cases import CASES, Case

pytestmark = pytest.mark.integration
STRIPE, SLACK = (next(c for c in CASES if c.provider == p) for p in ("stripe", "slack"))
OPERATOR = {c.provider: {"webhook_secret": c.secret} for c in (STRIPE, SLACK)}


ACCOUNT = "acct_" + uuid.uuid4().hex[:12]


@pytest.fixture(params=["embedded", "servers"])
def client(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[TestClient]:
    """The API, with one org holding a Stripe connection for ``ACCOUNT``."""
    runtime = webhook_runtime(request, tmp_path, namespace, request.param, providers=OPERATOR)
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("inbound-input")).id
        ConnectionRepository(session, org).create(
            "stripe", account_identifier={STRIPE.key: ACCOUNT}
        )
    with TestClient(create_app(runtime)) as test_client:
        yield test_client
    runtime.close()


def signed_post(client: TestClient, case: Case, body: bytes) -> Any:
    headers = case.signer(case, body, case.secret, time.time())
    return client.post(
        f"/webhooks/{case.provider}",
        content=body,
        headers={"content-type": "application/json", **headers},
    )


def test_deep_json_is_refused_before_the_signature_is_checked(client: TestClient) -> None:
    """5,000 levels of nesting, even correctly signed, is a 422 and no RecursionError."""
    deep = b"[" * 5000 + b"]" * 5000
    assert client.post("/webhooks/stripe", content=deep).status_code == 422
    response = signed_post(client, STRIPE, deep)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("case", "event"),
    [
        (STRIPE, {"id": "evt_1", "type": "invoice.paid", "account": 12345}),
        (STRIPE, {"id": "evt_2", "type": "invoice.paid", "account": ["acct_x"]}),
        (SLACK, {"type": "event_callback", "team_id": {"id": "T1"}, "event_id": "Ev1"}),
        (SLACK, {"type": "event_callback", "team_id": 7, "event_id": "Ev2"}),
    ],
)
def test_non_string_account_in_a_signed_body_is_400(
    client: TestClient, case: Case, event: dict[str, Any]
) -> None:
    """A signed body naming its account as a number, list or object is a 400 naming it."""
    response = signed_post(client, case, json.dumps(event).encode())
    assert response.status_code == 400, response.text
    assert "account must be a string" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_n1", "type": "invoice.paid", "note": "a\u0000b"},
        {"id": "evt_n2", "type": "invoice\u0000paid"},
        {"id": "evt\u0000n3", "type": "invoice.paid"},
        {"id": "evt_n4", "type": "invoice.paid", "a\u0000": 1},
    ],
)
def test_nul_in_a_signed_body_is_4xx(client: TestClient, event: dict[str, Any]) -> None:
    """A signed body carrying NUL (which PostgreSQL cannot store) is refused, not a 500."""
    response = signed_post(client, STRIPE, json.dumps({**event, "account": ACCOUNT}).encode())
    assert 400 <= response.status_code < 500, response.text
