"""GET /v1/queues: an org key sees its own backlog per queue and state; an admin, every org's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import auth
from tests.integration.jobs.conftest import drain, noop
from tests.integration.jobs.test_job_state import enqueue


def row(body: dict[str, Any], org: str, queue: str = "action") -> dict[str, Any]:
    [found] = [r for r in body["items"] if r["org_id"] == org and r["queue"] == queue]
    return found


def test_org_sees_its_laned_and_waiting_jobs(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Three laned and one waiting job of org A show on A's action queue; B's are not shown."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for _ in range(3):
        enqueue(client, keys["key_a"], noop())
    enqueue(client, keys["key_a"], noop(not_before=later))
    enqueue(client, keys["key_b"], noop())
    body = client.get("/v1/queues", headers=auth(keys["key_a"])).json()
    assert {r["org_id"] for r in body["items"]} == {keys["a"]} and body["complete"] is True
    mine = row(body, keys["a"])
    assert (mine["laned"], mine["waiting"], mine["running"]) == (3, 1, 0)
    assert mine["oldest_due_age_seconds"] is not None and mine["oldest_due_age_seconds"] >= 0
    assert row(body, keys["a"], "sync")["laned"] == 0


def test_admin_sees_every_org_and_drained_queues_are_empty(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """An admin key lists each org with jobs; once workers drained them, none is listed."""
    enqueue(client, keys["key_a"], noop())
    enqueue(client, keys["key_b"], noop())
    body = client.get("/v1/queues", headers=auth(keys["admin"])).json()
    assert {keys["a"], keys["b"]} <= {r["org_id"] for r in body["items"]}
    drain(runtime)
    after = client.get("/v1/queues", headers=auth(keys["admin"])).json()
    assert not {keys["a"], keys["b"]} & {r["org_id"] for r in after["items"]}


def test_org_key_naming_another_org_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    """An org key may not read another org's backlog."""
    response = client.get("/v1/queues", params={"org_id": keys["b"]}, headers=auth(keys["key_a"]))
    assert response.status_code == 403
