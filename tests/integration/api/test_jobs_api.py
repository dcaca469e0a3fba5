"""POST /v1/jobs: authentication, org scoping, validation errors and idempotency over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.conftest import unique

JOB = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime: Runtime) -> dict[str, Any]:
    """Two orgs with a key each, an admin key, and a revoked key."""
    with runtime.sessions.begin() as session:
        orgs = OrganizationRepository(session)
        keys_repo = ApiKeyRepository(session)
        a, b = orgs.create(unique("alpha")).id, orgs.create(unique("beta")).id
        revoked = keys_repo.create(a, "old")
        keys_repo.revoke(revoked.api_key.id)
        return {
            "a": a,
            "b": b,
            "key_a": keys_repo.create(a, "ci").key.reveal(),
            "key_b": keys_repo.create(b, "ci").key.reveal(),
            "admin": keys_repo.create(None, "ops").key.reveal(),
            "revoked": revoked.key.reveal(),
        }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_org_key_enqueues_for_its_org(client: TestClient, keys: dict[str, Any]) -> None:
    """An org key creates a job for its own org: 201 with the job id."""
    response = client.post("/v1/jobs", json=JOB, headers=auth(keys["key_a"]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["id"]) == 32 and body["duplicate"] is False


def test_x_api_key_header_is_accepted(client: TestClient, keys: dict[str, Any]) -> None:
    """The key may also travel in X-API-Key."""
    response = client.post("/v1/jobs", json=JOB, headers={"X-API-Key": keys["key_a"]})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sy_nope"}, {"Authorization": "Basic abc"}]
)
def test_missing_or_bad_key_is_401(
    client: TestClient, keys: dict[str, Any], headers: dict[str, str]
) -> None:
    """No key, an unknown key or another scheme: 401 with a Bearer challenge."""
    response = client.post("/v1/jobs", json=JOB, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_key_is_401(client: TestClient, keys: dict[str, Any]) -> None:
    """A revoked key stops authenticating."""
    assert client.post("/v1/jobs", json=JOB, headers=auth(keys["revoked"])).status_code == 401


def test_org_key_cannot_act_for_another_org(client: TestClient, keys: dict[str, Any]) -> None:
    """An org key naming another org is refused with 403 and nothing is enqueued."""
    response = client.post(
        "/v1/jobs", json={**JOB, "org_id": keys["b"]}, headers=auth(keys["key_a"])
    )
    assert response.status_code == 403


def test_admin_key_must_name_the_org(client: TestClient, keys: dict[str, Any]) -> None:
    """An admin key without org_id gets 422 naming org_id; with it, 201."""
    response = client.post("/v1/jobs", json=JOB, headers=auth(keys["admin"]))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "org_id", "message": "required with an admin key"}
    ]
    response = client.post(
        "/v1/jobs", json={**JOB, "org_id": keys["b"]}, headers=auth(keys["admin"])
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**JOB, "provider": "myspace"}, "provider"),
        ({**JOB, "kind": "teleport"}, "kind"),
        ({**JOB, "payload": {"action": "noop", "input": {"x": "y" * 70_000}}}, "payload"),
        (
            {**JOB, "payload": {"action": "noop", "input": {"api_key": "k"}}},
            "payload.input.api_key",
        ),
        ({**JOB, "priority": "high"}, "priority"),
        ({**JOB, "id": "0" * 32}, "id"),
    ],
)
def test_invalid_job_is_422_naming_the_field(
    client: TestClient, keys: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    """Each invalid job is refused with 422 and the offending field's name."""
    response = client.post("/v1/jobs", json=body, headers=auth(keys["key_a"]))
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["fields"]]


def test_malformed_json_is_422(client: TestClient, keys: dict[str, Any]) -> None:
    """A body that is not JSON is refused with 422 saying so."""
    headers = {**auth(keys["key_a"]), "Content-Type": "application/json"}
    response = client.post("/v1/jobs", content=b"{not json", headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "(body)"


def test_oversize_body_is_413(client: TestClient, keys: dict[str, Any], runtime: Runtime) -> None:
    """A body over the API limit is refused with 413 before parsing."""
    big = {
        **JOB,
        "payload": {"action": "noop", "input": {"x": "y" * runtime.settings.api.max_body_bytes}},
    }
    assert client.post("/v1/jobs", json=big, headers=auth(keys["key_a"])).status_code == 413


def test_repeated_idempotency_key_returns_first_id(
    client: TestClient, keys: dict[str, Any]
) -> None:
    """The same idempotency key returns 200 with the first job's id."""
    body = {**JOB, "idempotency_key": "scan-42"}
    first = client.post("/v1/jobs", json=body, headers=auth(keys["key_a"]))
    second = client.post("/v1/jobs", json=body, headers=auth(keys["key_a"]))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == {"id": first.json()["id"], "duplicate": True}
