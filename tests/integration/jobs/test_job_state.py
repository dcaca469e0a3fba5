"""GET /v1/jobs/{id} and GET /v1/jobs: a job followed from 201 to its end, org-scoped."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contract.envelope import ActionJob
from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import auth
from tests.integration.jobs.conftest import drain, noop
from workers.errors import TransientJobError
from workers.handlers.action import BUILTIN_ACTIONS


def enqueue(client: TestClient, key: str, job: dict[str, Any]) -> str:
    response = client.post("/v1/jobs", json=job, headers=auth(key))
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


def status(client: TestClient, key: str, job_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_job_is_queued_then_succeeded(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """A new job is queued with its identity; after the workers ran it, succeeded."""
    job_id = enqueue(client, keys["key_a"], noop())
    queued = status(client, keys["key_a"], job_id)
    assert queued["state"] == "queued" and queued["org_id"] == keys["a"]
    assert (queued["kind"], queued["provider"], queued["action"]) == ("action", "hubspot", "noop")
    assert queued["attempts"] == 0 and queued["enqueued_at"] and queued["started_at"] is None
    drain(runtime)
    done = status(client, keys["key_a"], job_id)
    assert done["state"] == "succeeded" and done["attempts"] == 1
    assert done["result"] == {"ok": True}
    assert done["started_at"] and done["finished_at"] and done["finished_at"] >= done["started_at"]


def test_not_before_job_is_waiting_with_until(client: TestClient, keys: dict[str, str]) -> None:
    """A job for later waits, reason not_before, until about its time."""
    later = datetime.now(UTC) + timedelta(hours=1)
    job_id = enqueue(client, keys["key_a"], noop(not_before=later.isoformat()))
    body = status(client, keys["key_a"], job_id)
    assert body["state"] == "waiting" and body["waiting"]["reason"] == "not_before"
    until = datetime.fromisoformat(body["waiting"]["until"])
    assert abs((until - later).total_seconds()) < 5


def test_dead_job_names_reason_and_dead_job_id(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """A job that dead-letters is dead with its error class and its DLQ id."""
    job_id = enqueue(
        client, keys["key_a"], noop(payload={"action": "proxy", "input": {"path": "/teleport"}})
    )
    drain(runtime)
    body = status(client, keys["key_a"], job_id)
    assert body["state"] == "dead" and body["dead"]["reason"] == "connection_error"
    dead = client.get(f"/v1/dlq/{body['dead']['dead_job_id']}", headers=auth(keys["admin"]))
    assert dead.status_code == 200 and dead.json()["job_id"] == job_id


def test_other_orgs_job_is_404(client: TestClient, keys: dict[str, str]) -> None:
    """An org key asking for another org's job gets 404 (not 403); an admin key sees it."""
    job_id = enqueue(client, keys["key_a"], noop())
    response = client.get(f"/v1/jobs/{job_id}", headers=auth(keys["key_b"]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert status(client, keys["admin"], job_id)["id"] == job_id


def test_unknown_job_is_404(client: TestClient, keys: dict[str, str]) -> None:
    """An id nobody enqueued is 404 in the one error shape."""
    response = client.get("/v1/jobs/" + "0" * 32, headers=auth(keys["key_a"]))
    assert response.status_code == 404 and "unknown job" in response.json()["error"]["message"]


def test_list_pages_through_own_jobs_by_state(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """The list holds only the org's jobs, newest first, paged by cursor and filtered."""
    mine = [enqueue(client, keys["key_a"], noop()) for _ in range(5)]
    enqueue(client, keys["key_b"], noop())
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/jobs", params=params, headers=auth(keys["key_a"])).json()
        seen += [job["id"] for job in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(mine))
    drain(runtime)
    done = client.get("/v1/jobs", params={"state": "succeeded"}, headers=auth(keys["key_a"]))
    assert {job["id"] for job in done.json()["items"]} == set(mine)
    queued = client.get("/v1/jobs", params={"state": "queued"}, headers=auth(keys["key_a"]))
    assert queued.json()["items"] == []


def test_list_refuses_bad_state_and_cursor(client: TestClient, keys: dict[str, str]) -> None:
    """An unknown state or a forged cursor is 422 naming the query parameter."""
    for params, field in (({"state": "lost"}, "query.state"), ({"cursor": "x"}, "query.cursor")):
        response = client.get("/v1/jobs", params=params, headers=auth(keys["key_a"]))
        assert response.status_code == 422
        assert field in [f["field"] for f in response.json()["error"]["fields"]]


def test_failed_attempt_shows_retrying_then_succeeded(
    runtime: Runtime, client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a transient failure the job is retrying (attempt 1, next at, error class); the
    next attempt succeeds with attempts 2."""
    calls: list[str] = []

    def once(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(job.id)
        if len(calls) == 1:
            error = TransientJobError("provider answered 503")
            error.retry_after = 1.0  # type: ignore[attr-defined]  # as a Retry-After would
            raise error
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "once", once)
    job_id = enqueue(client, keys["key_a"], noop(payload={"action": "once"}))
    workers = threading.Thread(target=drain, args=(runtime,))
    workers.start()
    try:
        seen = wait_for_state(client, keys["key_a"], job_id, "retrying")
    finally:
        workers.join(60)
    assert seen["retry"]["attempt"] == 1 and seen["retry"]["error_class"] == "transient"
    assert datetime.fromisoformat(seen["retry"]["next_at"]) > datetime.fromisoformat(
        seen["started_at"]
    )
    done = status(client, keys["key_a"], job_id)
    assert done["state"] == "succeeded" and done["attempts"] == 2 and done["retry"] is None


def wait_for_state(client: TestClient, key: str, job_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    seen: list[str] = []
    while time.monotonic() < deadline:
        body = status(client, key, job_id)
        seen.append(body["state"])
        if body["state"] == state:
            return body
        time.sleep(0.01)
    raise AssertionError(f"job never reached {state}: {sorted(set(seen))}")
