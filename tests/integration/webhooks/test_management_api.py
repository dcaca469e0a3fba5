"""/v1/webhooks over HTTP: org scoping, secrets shown once, field errors, deliveries, replay."""

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
from tests.integration.webhooks.receiver import Answer, Receiver
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration


@pytest.fixture
def client(hooks_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(hooks_runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(hooks_runtime: Runtime) -> dict[str, Any]:
    with hooks_runtime.sessions.begin() as session:
        orgs, keys_repo = OrganizationRepository(session), ApiKeyRepository(session)
        a, b = orgs.create(unique("alpha")).id, orgs.create(unique("beta")).id
        return {
            "a": a,
            "b": b,
            "key_a": keys_repo.create(a, "ci").key.reveal(),
            "key_b": keys_repo.create(b, "ci").key.reveal(),
            "admin": keys_repo.create(None, "ops").key.reveal(),
        }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/v1/webhooks/endpoints", json=body, headers=auth(key))


def test_secret_is_shown_once_at_creation(client: TestClient, keys: dict[str, Any]) -> None:
    """201 with a whsec_ secret; list, get and disable answers never show it again."""
    made = create(client, keys["key_a"], url="https://hooks.example.com/in", event_types=["A"])
    assert made.status_code == 201, made.text
    secret, endpoint_id = made.json()["secret"], made.json()["id"]
    assert secret.startswith("whsec_")
    later = [
        client.get("/v1/webhooks/endpoints", headers=auth(keys["key_a"])),
        client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=auth(keys["key_a"])),
        client.post(f"/v1/webhooks/endpoints/{endpoint_id}/disable", headers=auth(keys["key_a"])),
        client.post(f"/v1/webhooks/endpoints/{endpoint_id}/enable", headers=auth(keys["key_a"])),
    ]
    for response in later:
        assert response.status_code == 200, response.text
        assert secret not in response.text and "encrypted" not in response.text
    assert later[2].json()["disabled_reason"] == "manual" and later[3].json()["enabled"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": "https://user:pw@example.com/"}, "url"),
        ({}, "url"),
        ({"url": "https://e.com/", "event_types": ["no spaces"]}, "event_types"),
        ({"url": "https://e.com/", "max_concurrency": 0}, "max_concurrency"),
        ({"url": "https://e.com/", "rate_limit_per_second": "x"}, "rate_limit_per_second"),
        ({"url": "https://e.com/", "colour": "red"}, "colour"),
    ],
)
def test_bad_endpoint_fields_are_named(
    client: TestClient, keys: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    """422 naming the offending field."""
    response = create(client, keys["key_a"], **body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == field


def test_endpoints_are_scoped_to_their_org(client: TestClient, keys: dict[str, Any]) -> None:
    """Another org's key sees 404; an admin key must name the org, then sees it."""
    endpoint_id = create(client, keys["key_a"], url="https://e.com/").json()["id"]
    other = client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=auth(keys["key_b"]))
    assert other.status_code == 404
    assert client.get("/v1/webhooks/endpoints", headers=auth(keys["key_b"])).json()["items"] == []
    unnamed = client.get("/v1/webhooks/endpoints", headers=auth(keys["admin"]))
    assert unnamed.status_code == 422
    named = client.get(f"/v1/webhooks/endpoints?org_id={keys['a']}", headers=auth(keys["admin"]))
    assert [e["id"] for e in named.json()["items"]] == [endpoint_id]
    missing = client.get("/v1/webhooks/endpoints?org_id=nope", headers=auth(keys["admin"]))
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "org_id"
    cross = client.get(f"/v1/webhooks/endpoints?org_id={keys['b']}", headers=auth(keys["key_a"]))
    assert cross.status_code == 403


def test_rotation_returns_a_new_secret_once(client: TestClient, keys: dict[str, Any]) -> None:
    """rotate-secret answers the new secret and the grace end; bad grace_hours is a 422."""
    made = create(client, keys["key_a"], url="https://e.com/").json()
    path = f"/v1/webhooks/endpoints/{made['id']}/rotate-secret"
    rotated = client.post(path, json={"grace_hours": 2}, headers=auth(keys["key_a"]))
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] not in (made["secret"], None)
    assert rotated.json()["previous_secret_expires_at"] is not None
    bad = client.post(path, json={"grace_hours": "soon"}, headers=auth(keys["key_a"]))
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "grace_hours"
    assert client.post(path, headers=auth(keys["key_a"])).status_code == 200


def test_deliveries_are_listed_shown_and_replayed(
    client: TestClient, keys: dict[str, Any], hooks_runtime: Runtime, receiver: Receiver
) -> None:
    """A failed delivery shows its attempt log; replay by id and by time deliver it."""
    receiver.then(*[Answer(500, body=b"down")] * 4)
    create(client, keys["key_a"], url=receiver.url)
    hooks_runtime.event_publisher.publish(keys["a"], "CALL_COMPLETED", {"call": 1})
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    listed = client.get("/v1/webhooks/deliveries?status=failed", headers=auth(keys["key_a"]))
    [delivery] = listed.json()["items"]
    shown = client.get(f"/v1/webhooks/deliveries/{delivery['id']}", headers=auth(keys["key_a"]))
    log = shown.json()["attempt_log"]
    assert [a["status_code"] for a in log] == [500] * 4 and log[0]["response_excerpt"] == "down"
    assert (
        client.get(
            f"/v1/webhooks/deliveries/{delivery['id']}", headers=auth(keys["key_b"])
        ).status_code
        == 404
    )
    replay = client.post(
        f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=auth(keys["key_a"])
    )
    assert replay.status_code == 202 and replay.json()["job_id"]
    again = client.post(
        f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=auth(keys["key_a"])
    )
    assert again.status_code == 409  # the replay is still in progress
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    done = client.get("/v1/webhooks/deliveries?status=delivered", headers=auth(keys["key_a"]))
    assert [d["id"] for d in done.json()["items"]] == [delivery["id"]]
    bulk = client.post(
        "/v1/webhooks/deliveries/replay", json={"since": "1h"}, headers=auth(keys["key_a"])
    )
    assert bulk.status_code == 202 and bulk.json() == {"replayed": {}, "refused": {}}
    bad = client.post(
        "/v1/webhooks/deliveries/replay", json={"since": "yesterday"}, headers=auth(keys["key_a"])
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "since"
