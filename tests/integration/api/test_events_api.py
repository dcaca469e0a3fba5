"""POST /v1/events: org scoping, idempotency and field errors over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.repositories import EventRepository
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.conftest import unique


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime: Runtime) -> dict[str, Any]:
    with runtime.sessions.begin() as session:
        orgs, keys_repo = OrganizationRepository(session), ApiKeyRepository(session)
        a, b = orgs.create(unique("alpha")).id, orgs.create(unique("beta")).id
        return {
            "a": a,
            "b": b,
            "key_a": keys_repo.create(a, "ci").key.reveal(),
            "admin": keys_repo.create(None, "ops").key.reveal(),
        }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_org_key_publishes_for_its_org(
    client: TestClient, keys: dict[str, Any], runtime: Runtime
) -> None:
    """201 with the event id; the event is stored under the key's org with its data."""
    body = {"type": "QR_SCANNED", "data": {"qr": "q1"}, "idempotency_key": "s-1"}
    response = client.post("/v1/events", json=body, headers=auth(keys["key_a"]))
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    with runtime.sessions() as session:
        assert EventRepository(session, keys["a"]).get(event_id).data == {"qr": "q1"}
    again = client.post("/v1/events", json=body, headers=auth(keys["key_a"]))
    assert again.status_code == 200 and again.json()["id"] == event_id


def test_org_key_cannot_publish_for_another_org(client: TestClient, keys: dict[str, Any]) -> None:
    """An org key naming another org is forbidden."""
    body = {"type": "QR_SCANNED", "org_id": keys["b"]}
    assert client.post("/v1/events", json=body, headers=auth(keys["key_a"])).status_code == 403


def test_admin_key_must_name_the_org(client: TestClient, keys: dict[str, Any]) -> None:
    """An admin key publishes for the org it names, and must name one."""
    ok = client.post(
        "/v1/events", json={"type": "X", "org_id": keys["b"]}, headers=auth(keys["admin"])
    )
    assert ok.status_code == 201
    missing = client.post("/v1/events", json={"type": "X"}, headers=auth(keys["admin"]))
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "org_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "type"),
        ({"type": "QR_SCANNED", "data": [1]}, "data"),
        ({"type": "QR SCANNED"}, "type"),
        ({"type": "QR_SCANNED", "extra": 1}, "extra"),
        ({"type": "QR_SCANNED", "idempotency_key": 7}, "idempotency_key"),
    ],
)
def test_bad_bodies_name_the_field(
    client: TestClient, keys: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    """Missing or malformed fields answer 422 naming them."""
    response = client.post("/v1/events", json=body, headers=auth(keys["key_a"]))
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["fields"]]


def test_unauthenticated_is_refused(client: TestClient) -> None:
    """No key, no event."""
    assert client.post("/v1/events", json={"type": "X"}).status_code == 401
