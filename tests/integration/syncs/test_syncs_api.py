"""/v1/syncs and /v1/records over HTTP: trigger, run history, paged records, org scoping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.integration.syncs.helpers import Connected, connect, run_sync_job
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration


@pytest.fixture
def client(synced: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(synced)) as test_client:
        yield test_client


@pytest.fixture
def hub(synced: Runtime) -> tuple[Connected, str, str]:
    """An org connected to HubSpot, its API key, and another org's key."""
    c = connect(synced, "hubspot")
    other = connect(synced, "hubspot")
    with synced.sessions.begin() as session:
        keys = ApiKeyRepository(session)
        return (
            c,
            keys.create(c.org_id, "t").key.reveal(),
            keys.create(other.org_id, "t").key.reveal(),
        )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_trigger_enqueues_then_reports_duplicate(
    client: TestClient, hub: tuple[Connected, str, str], synced: Runtime
) -> None:
    """202 enqueued, then 202 duplicate with the same job; the run shows in the history."""
    _, key, _ = hub
    body = {"provider": "hubspot", "model": "deals", "mode": "full"}
    first = client.post("/v1/syncs", json=body, headers=auth(key))
    assert first.status_code == 202, first.text
    again = client.post("/v1/syncs", json=body, headers=auth(key))
    assert again.json()["result"] == "duplicate"
    assert again.json()["job_id"] == first.json()["job_id"]
    run_until_idle(synced.worker_broker, synced.lanes, threads=2)
    runs = client.get("/v1/syncs/runs", headers=auth(key)).json()["items"]
    assert [(r["model"], r["status"], r["added"]) for r in runs] == [("deals", "succeeded", 25)]


def test_trigger_names_bad_fields(client: TestClient, hub: tuple[Connected, str, str]) -> None:
    """Unknown models, modes and fields are 422 naming the field."""
    _, key, _ = hub
    bad = client.post(
        "/v1/syncs", json={"provider": "hubspot", "model": "nope", "x": 1}, headers=auth(key)
    )
    assert bad.status_code == 422
    assert [d["field"] for d in bad.json()["error"]["fields"]] == ["x"]
    unknown = client.post(
        "/v1/syncs", json={"provider": "hubspot", "model": "nope"}, headers=auth(key)
    )
    assert unknown.json()["error"]["fields"][0]["field"] == "payload.model"
    mode = client.post(
        "/v1/syncs", json={"provider": "hubspot", "model": "deals", "mode": "x"}, headers=auth(key)
    )
    assert mode.json()["error"]["fields"][0]["field"] == "mode"


def read_all(client: TestClient, key: str, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/records", params=query, headers=auth(key))
        assert page.status_code == 200, page.text
        records += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return records


def test_records_are_paged_filtered_and_org_scoped(
    client: TestClient, hub: tuple[Connected, str, str], synced: Runtime
) -> None:
    """Cursor paging returns every record once; model and updated_since filter; other orgs
    see nothing."""
    c, key, other_key = hub
    assert synced.sandbox is not None
    deals = synced.sandbox.datasets.dataset("hubspot", "deals", seed=30)
    run_sync_job(synced, c, "deals", "full")
    run_sync_job(synced, c, "contacts", "full")
    listed = read_all(client, key, model="deals")
    assert sorted(r["id"] for r in listed) == sorted(deals.ids())
    assert len(read_all(client, key)) == 55
    mark = datetime.now(UTC).isoformat()
    deals.update("50003", {"archived": True})
    run_sync_job(synced, c, "deals", "full")
    changed = read_all(client, key, model="deals", updated_since=mark)
    assert [r["id"] for r in changed] == ["50003"]
    assert read_all(client, other_key) == []
    assert read_all(client, key, provider="hubspot", model="deals") == read_all(
        client, key, model="deals"
    )


def test_records_reject_bad_filters(client: TestClient, hub: tuple[Connected, str, str]) -> None:
    """A naive updated_since or a forged cursor is 422 naming the parameter."""
    _, key, _ = hub
    naive = client.get(
        "/v1/records", params={"updated_since": "2026-01-01T00:00:00"}, headers=auth(key)
    )
    assert naive.json()["error"]["fields"][0]["field"] == "updated_since"
    forged = client.get("/v1/records", params={"cursor": "bm9wZQ=="}, headers=auth(key))
    assert forged.json()["error"]["fields"][0]["field"] == "cursor"


def test_deleted_records_are_listed_only_on_request(
    client: TestClient, hub: tuple[Connected, str, str], synced: Runtime
) -> None:
    """Deleted records disappear from the default listing and come back with deleted_at."""
    c, key, _ = hub
    assert synced.sandbox is not None
    deals = synced.sandbox.datasets.dataset("hubspot", "deals", seed=5)
    run_sync_job(synced, c, "deals", "full")
    deals.delete("50002")
    run_sync_job(synced, c, "deals", "full")
    live = {r["id"] for r in read_all(client, key, model="deals")}
    everything = read_all(client, key, model="deals", include_deleted="true")
    assert "50002" not in live and len(live) == 4
    assert [r["id"] for r in everything if r["deleted_at"]] == ["50002"]
