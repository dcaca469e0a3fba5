"""/v1/dlq over HTTP: admin keys only, filters, paging, replay, purge and their errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.integration.dlq.conftest import audit_events, dead_job, dead_jobs, park
from tests.integration.workers.test_pipeline import drain

UNKNOWN = "f" * 32


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime: Runtime, org_id: str) -> dict[str, str]:
    """An admin key (with its id) and a key of ``org_id``."""
    with runtime.sessions.begin() as session:
        repo = ApiKeyRepository(session)
        admin = repo.create(None, "ops")
        return {
            "admin": admin.key.reveal(),
            "admin_id": admin.api_key.id,
            "org": repo.create(org_id, "ci").key.reveal(),
        }


@pytest.fixture
def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys['admin']}"}


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [d["field"] for d in response.json()["error"]["fields"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/dlq"),
        ("GET", f"/v1/dlq/{UNKNOWN}"),
        ("POST", "/v1/dlq/replay"),
        ("POST", "/v1/dlq/purge"),
    ],
)
def test_org_keys_cannot_purge_and_no_key_401(
    client: TestClient, keys: dict[str, str], method: str, path: str
) -> None:
    """Purge stays admin: an org key is forbidden; every route wants a key (org keys'
    own-dead-job access is tested in tests/integration/jobs/test_dead_jobs_org_access.py)."""
    body = {"all": True}
    org = client.request(method, path, json=body, headers={"X-API-Key": keys["org"]})
    if path.endswith("purge"):
        assert org.status_code == 403
    assert client.request(method, path, json=body).status_code == 401


def test_list_filters_and_pages(
    client: TestClient, admin: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """Query parameters filter as the CLI's options do; limit/offset page with a total."""
    ids = [park(runtime, org_id) for _ in range(3)]
    slack = park(runtime, org_id, provider="slack")
    page = client.get("/v1/dlq", params={"org": org_id, "limit": 2}, headers=admin).json()
    assert (len(page["items"]), page["total"], page["next_offset"]) == (2, 4, 2)
    rest = client.get(
        "/v1/dlq", params={"org": org_id, "limit": 2, "offset": 2}, headers=admin
    ).json()
    assert rest["next_offset"] is None
    assert {i["id"] for i in page["items"] + rest["items"]} == {*ids, slack}
    only = client.get("/v1/dlq", params={"org": org_id, "provider": "slack"}, headers=admin)
    assert [i["id"] for i in only.json()["items"]] == [slack]
    by_id = client.get("/v1/dlq", params=[("id", ids[0]), ("id", slack)], headers=admin)
    assert {i["id"] for i in by_id.json()["items"]} == {ids[0], slack}


def test_show_returns_the_envelope_and_404_names_unknown_ids(
    client: TestClient, admin: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """GET /v1/dlq/{id} shows one dead job in full; an unknown id is a 404 naming it."""
    dead_id = park(runtime, org_id)
    shown = client.get(f"/v1/dlq/{dead_id}", headers=admin)
    assert shown.status_code == 200
    assert shown.json()["envelope"]["payload"]["input"]["path"] == "/teleport"
    missing = client.get(f"/v1/dlq/{UNKNOWN}", headers=admin)
    assert missing.status_code == 404 and UNKNOWN in missing.json()["error"]["message"]


def test_replay_by_ids_lands_again_and_is_audited_with_the_key(
    client: TestClient,
    admin: dict[str, str],
    keys: dict[str, str],
    runtime: Runtime,
    org_id: str,
    teleport: dict[str, Any],
) -> None:
    """POST /v1/dlq/replay maps dead ids to new jobs; the failing replay is dead again."""
    runtime.enqueuer.enqueue(teleport)
    drain(runtime)
    [first] = dead_jobs(runtime, org_id)
    response = client.post("/v1/dlq/replay", json={"ids": [first.id]}, headers=admin)
    assert response.status_code == 200, response.text
    [done] = response.json()["replayed"]
    assert done["dead_job_id"] == first.id and done["job_id"] != first.job_id
    drain(runtime)
    assert {d.job_id for d in dead_jobs(runtime, org_id)} == {first.job_id, done["job_id"]}
    [event] = audit_events(runtime, org_id, "dlq.replayed")
    assert event.actor == f"api-key:{keys['admin_id']}"


def test_replay_by_filter_reports_refusals(
    client: TestClient, admin: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """A filter body replays what matches; an invalid envelope is refused with its reason."""
    fine = park(runtime, org_id)
    removed = park(runtime, org_id, provider="myspace")
    response = client.post("/v1/dlq/replay", json={"filter": {"org": org_id}}, headers=admin)
    body = response.json()
    assert [r["dead_job_id"] for r in body["replayed"]] == [fine]
    [refused] = body["refused"]
    assert refused["dead_job_id"] == removed and "provider" in refused["reason"]


def test_replay_unknown_or_purged_ids_is_404_naming_them(
    client: TestClient, admin: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """Unknown ids and purged ones are 404s naming the id; nothing is replayed."""
    dead_id = park(runtime, org_id)
    unknown = client.post("/v1/dlq/replay", json={"ids": [dead_id, UNKNOWN]}, headers=admin)
    assert unknown.status_code == 404 and UNKNOWN in unknown.json()["error"]["message"]
    assert dead_job(runtime, dead_id).replay_count == 0
    purged = client.post("/v1/dlq/purge", json={"ids": [dead_id]}, headers=admin)
    assert purged.json() == {"purged": [dead_id], "count": 1}
    again = client.post("/v1/dlq/replay", json={"ids": [dead_id]}, headers=admin)
    assert again.status_code == 404
    assert (
        dead_id in again.json()["error"]["message"] and "purged" in again.json()["error"]["message"]
    )


def test_purge_by_filter_returns_the_ids(
    client: TestClient, admin: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """POST /v1/dlq/purge deletes what the filter matches and says which."""
    doomed = park(runtime, org_id, error_class="permanent")
    kept = park(runtime, org_id)
    response = client.post(
        "/v1/dlq/purge", json={"filter": {"org": org_id, "error_class": "permanent"}}, headers=admin
    )
    assert response.json() == {"purged": [doomed], "count": 1}
    assert [d.id for d in dead_jobs(runtime, org_id)] == [kept]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-11-01T09:00:00"}, "until"),
        ({"kind": "teleport"}, "kind"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"org": "ghost-org"}, "org"),
    ],
)
def test_malformed_list_filters_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], params: dict[str, str], field: str
) -> None:
    """Each malformed query parameter is a 422 naming it."""
    assert field in fields_of(client.get("/v1/dlq", params=params, headers=admin))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "all"),
        ({"filter": {}}, "all"),
        ({"all": True, "filter": {"provider": "slack"}}, "all"),
        ({"filter": {"since": "soon"}}, "filter.since"),
        ({"filter": {"kind": "teleport"}}, "filter.kind"),
        ({"filter": {"colour": "red"}}, "filter.colour"),
        ({"filter": {"provider": 7}}, "filter.provider"),
        ({"filter": "everything"}, "filter"),
        ({"ids": "abc"}, "ids"),
        ({"ids": [str(n) for n in range(1_001)]}, "ids"),
        ({"all": True, "limit": 0}, "limit"),
        ({"all": True, "limit": "ten"}, "limit"),
        ({"all": "yes"}, "all"),
        ({"all": True, "dry_run": True}, "dry_run"),
    ],
)
@pytest.mark.parametrize("action", ["replay", "purge"])
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], action: str, body: dict[str, Any], field: str
) -> None:
    """Replay and purge refuse malformed bodies, and acting on everything without all."""
    assert field in fields_of(client.post(f"/v1/dlq/{action}", json=body, headers=admin))
