"""An org key lists, shows and replays its own dead jobs; another org's are 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import auth
from tests.integration.dlq.conftest import park


def test_org_key_lists_only_its_own_dead_jobs(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """The list is narrowed to the key's org; naming another org is 404."""
    mine, theirs = park(runtime, keys["a"]), park(runtime, keys["b"])
    page = client.get("/v1/dlq", headers=auth(keys["key_a"])).json()
    assert [item["id"] for item in page["items"]] == [mine] and theirs != mine
    other = client.get("/v1/dlq", params={"org": keys["b"]}, headers=auth(keys["key_a"]))
    assert other.status_code == 404


def test_org_key_shows_own_dead_job_and_not_anothers(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Its own dead job shows in full; another org's answers 404, as an unknown id would."""
    mine, theirs = park(runtime, keys["a"]), park(runtime, keys["b"])
    assert client.get(f"/v1/dlq/{mine}", headers=auth(keys["key_a"])).json()["id"] == mine
    response = client.get(f"/v1/dlq/{theirs}", headers=auth(keys["key_a"]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_org_key_replays_own_dead_jobs_only(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Replay by id works for its own; another org's id is 404 and nothing is replayed;
    ``all`` means all of its own."""
    mine, theirs = park(runtime, keys["a"]), park(runtime, keys["b"])
    refused = client.post(
        "/v1/dlq/replay", json={"ids": [mine, theirs]}, headers=auth(keys["key_a"])
    )
    assert refused.status_code == 404 and theirs in refused.json()["error"]["message"]
    done = client.post("/v1/dlq/replay", json={"all": True}, headers=auth(keys["key_a"]))
    assert done.status_code == 200, done.text
    assert [r["dead_job_id"] for r in done.json()["replayed"]] == [mine]
    admin = client.get(f"/v1/dlq/{theirs}", headers=auth(keys["admin"])).json()
    assert admin["replayed_at"] is None


def test_org_key_cannot_purge(client: TestClient, keys: dict[str, str]) -> None:
    """Purge stays admin: 403 for an org key."""
    response = client.post("/v1/dlq/purge", json={"all": True}, headers=auth(keys["key_a"]))
    assert response.status_code == 403
