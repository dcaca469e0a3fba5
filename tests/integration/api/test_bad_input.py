"""Bad input never reaches a 500 (issue 17, findings 5 and 6): deep JSON, NUL characters,
wrong types, unknown orgs and wrong media types are refused with the one error shape."""

from __future__ import annotations

import json
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
DEEP = b"[" * 5000 + b"]" * 5000
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime: Runtime) -> dict[str, str]:
    """An org with a key, and an admin key."""
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("input")).id
        repo = ApiKeyRepository(session)
        return {
            "org": org,
            "key": repo.create(org, "ci").key.reveal(),
            "admin": repo.create(None, "ops").key.reveal(),
        }


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["error"]["fields"]]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/jobs",
        "/v1/events",
        "/v1/connections",
        "/v1/connections/oauth/start",
        "/v1/syncs",
        "/v1/routes",
        "/v1/routes/r/test",
        "/v1/webhooks/endpoints",
        "/v1/webhooks/deliveries/replay",
    ],
)
def test_json_nested_5000_deep_is_422(client: TestClient, keys: dict[str, str], path: str) -> None:
    """A body nested 5,000 deep is refused with 422 naming the body, not a RecursionError."""
    response = client.post(path, content=DEEP, headers=auth(keys["key"], **JSON))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert fields(response) == ["(body)"]


def test_dlq_replay_nested_5000_deep_is_422(client: TestClient, keys: dict[str, str]) -> None:
    """The admin-only DLQ routes refuse a deep body the same way."""
    response = client.post("/v1/dlq/replay", content=DEEP, headers=auth(keys["admin"], **JSON))
    assert response.status_code == 422 and fields(response) == ["(body)"]


def test_action_payload_deeper_than_255_levels_is_422(
    client: TestClient, keys: dict[str, str]
) -> None:
    """An action input 300 levels deep is refused with 422 (pydantic cannot serialize it)."""
    deep: Any = {}
    for _ in range(300):
        deep = {"a": deep}
    job = {**JOB, "payload": {"action": "noop", "input": deep}}
    response = client.post("/v1/jobs", json=job, headers=auth(keys["key"]))
    assert response.status_code == 422, response.text


def test_job_sent_as_text_plain_is_415(client: TestClient, keys: dict[str, str]) -> None:
    """A valid job with Content-Type text/plain is refused with 415, and nothing enqueued."""
    headers = auth(keys["key"], **{"Content-Type": "text/plain"})
    response = client.post("/v1/jobs", content=json.dumps(JOB), headers=headers)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/dlq?provider=hub%00spot"),
        ("GET", "/v1/dlq?id=abc%00"),
        ("GET", "/v1/records?cursor=%00"),
        ("GET", "/v1/connections?provider=a%00"),
        ("GET", "/v1/connections/abc%00def"),
        ("GET", "/v1/webhooks/deliveries/d%00"),
        ("GET", "/v1/routes/r%00"),
    ],
)
def test_nul_in_ids_filters_and_cursors_is_422(
    client: TestClient, keys: dict[str, str], method: str, path: str
) -> None:
    """NUL in a path id, a filter or a cursor is refused before it reaches PostgreSQL."""
    key = keys["admin"] if path.startswith("/v1/dlq") else keys["key"]
    response = client.request(method, path, headers=auth(key))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/events", {"type": "order.created", "data": {"note": "a\u0000b"}}),
        ("/v1/events", {"type": "a\u0000"}),
        ("/v1/jobs", {**JOB, "payload": {"action": "noop", "input": {"k\u0000": 1}}}),
    ],
)
def test_nul_in_body_strings_is_422(
    client: TestClient, keys: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    """A NUL character anywhere in a JSON body (which jsonb cannot store) is a 422."""
    response = client.post(path, json=body, headers=auth(keys["key"]))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/connections", {"provider": "hubspot", "api_key": "k"}),
        ("/v1/connections/oauth/start", {"provider": "hubspot"}),
        ("/v1/syncs", {"provider": "hubspot", "model": "contacts"}),
        ("/v1/routes/r/test", {"data": {}}),
        ("/v1/jobs", JOB),
        ("/v1/events", {"type": "X"}),
    ],
)
@pytest.mark.parametrize("org_id", ["no-such-org", ["x"], 7, {"a": 1}])
def test_admin_key_with_unknown_or_non_string_org_is_422(
    client: TestClient, keys: dict[str, str], path: str, body: dict[str, Any], org_id: Any
) -> None:
    """An admin key naming an org that does not exist, or not as a string, gets 422 org_id."""
    response = client.post(path, json={**body, "org_id": org_id}, headers=auth(keys["admin"]))
    assert response.status_code == 422, response.text
    assert "org_id" in fields(response)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"priority": True}, "priority"),
        ({"correlation_id": "a\r\nX-Injected: 1"}, "correlation_id"),
        ({"idempotency_key": "k\n"}, "idempotency_key"),
    ],
)
def test_loose_envelope_fields_are_422(
    client: TestClient, keys: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    """priority true is not 1, and keys/ids with CR/LF are refused, naming the field."""
    response = client.post("/v1/jobs", json={**JOB, **extra}, headers=auth(keys["key"]))
    assert response.status_code == 422, response.text
    assert field in fields(response)


def test_every_error_has_the_one_shape(client: TestClient, keys: dict[str, str]) -> None:
    """401, 403, 404, 413 and 422 all answer {"error": {"code", "message", "fields"}}."""
    answers = [
        client.post("/v1/jobs", json=JOB),
        client.post("/v1/dlq/purge", json={"all": True}, headers=auth(keys["key"])),
        client.get("/v1/connections/nope", headers=auth(keys["key"])),
        client.post("/v1/jobs", content=b"x" * 300_000, headers=auth(keys["key"], **JSON)),
        client.post("/v1/jobs", json={"kind": 1}, headers=auth(keys["key"])),
    ]
    assert [a.status_code for a in answers] == [401, 403, 404, 413, 422]
    for answer in answers:
        error = answer.json()["error"]
        assert set(error) == {"code", "message", "fields"} and error["message"]


def test_huge_rotation_grace_is_422_not_an_overflow(
    client: TestClient, keys: dict[str, str]
) -> None:
    """grace_hours past a year (4e16 overflowed timedelta: a 500 found by the fuzz stage)."""
    created = client.post(
        "/v1/webhooks/endpoints", json={"url": "https://example.com/h"}, headers=auth(keys["key"])
    )
    assert created.status_code == 201, created.text
    response = client.post(
        f"/v1/webhooks/endpoints/{created.json()['id']}/rotate-secret",
        json={"grace_hours": 4.35e16},
        headers=auth(keys["key"]),
    )
    assert response.status_code == 422 and fields(response) == ["grace_hours"]
