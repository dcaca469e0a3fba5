"""POST /v1/jobs:batch and Enqueuer.enqueue_many (issue 19, item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contract.envelope import InvalidJobError
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.conftest import unique

pytestmark = pytest.mark.integration
NOOP = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}


@pytest.fixture
def api(runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with runtime.sessions.begin() as session:
        orgs = OrganizationRepository(session)
        a, b = orgs.create(unique("a")).id, orgs.create(unique("b")).id
        keys = ApiKeyRepository(session)
        found = {"a": a, "b": b, "key_a": keys.create(a, "k").key.reveal()}
    with TestClient(create_app(runtime)) as client:
        yield client, found


def post(client: TestClient, key: str, jobs: list[dict[str, Any]]) -> Any:
    return client.post(
        "/v1/jobs:batch", json={"jobs": jobs}, headers={"Authorization": f"Bearer {key}"}
    )


def test_partial_success_is_explicit(
    api: tuple[TestClient, dict[str, str]], runtime: Runtime
) -> None:
    """Valid jobs are laned, invalid ones answered per index in the one error shape."""
    client, keys = api
    jobs = [
        NOOP,
        {**NOOP, "payload": {"action": "teleport"}},
        {**NOOP, "idempotency_key": "same"},
        {**NOOP, "idempotency_key": "same"},
        {**NOOP, "org_id": keys["b"]},
        {**NOOP, "priority": 12},
    ]
    answer = post(client, keys["key_a"], jobs)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (3, 3)
    items = body["items"]
    assert [i["index"] for i in items] == list(range(6))
    assert items[1]["error"]["code"] == "invalid_input"
    assert items[1]["error"]["fields"][0]["field"] == "payload.action"
    assert items[3]["duplicate"] is True and items[3]["id"] == items[2]["id"]
    assert items[4]["error"]["code"] == "forbidden"
    assert items[5]["error"]["fields"][0]["field"] == "priority"
    assert runtime.lanes.depth("action").laned == 2  # item 3 is item 2's job


def test_over_the_limit_is_refused_whole(
    api: tuple[TestClient, dict[str, str]], runtime: Runtime
) -> None:
    """1,001 jobs answer 422 naming `jobs` and the limit; nothing is enqueued."""
    client, keys = api
    answer = post(client, keys["key_a"], [NOOP] * 1001)
    assert answer.status_code == 422
    [field] = answer.json()["error"]["fields"]
    assert field["field"] == "jobs" and "1000" in field["message"]
    assert runtime.lanes.depth("action").laned == 0


def test_enqueue_many_answers_in_order(runtime: Runtime, org_id: str) -> None:
    """enqueue_many returns Enqueued or the InvalidJobError per item, in order; the same key
    twice in one batch is one job."""
    jobs = [
        {**NOOP, "org_id": org_id, "idempotency_key": "k"},
        {**NOOP, "org_id": org_id, "provider": "myspace"},
        {**NOOP, "org_id": org_id, "idempotency_key": "k"},
        {**NOOP, "org_id": org_id, "not_before": "2999-01-01T00:00:00+00:00"},
    ]
    first, bad, again, later = runtime.enqueuer.enqueue_many(jobs)
    assert isinstance(bad, InvalidJobError) and bad.errors[0].field == "provider"
    assert not isinstance(first, InvalidJobError) and not isinstance(again, InvalidJobError)
    assert again.duplicate and again.job_id == first.job_id
    assert not isinstance(later, InvalidJobError) and not later.duplicate
    depth = runtime.lanes.depth("action")
    assert (depth.laned, depth.waiting) == (1, 1)


def test_enqueue_many_refuses_more_than_the_limit(runtime: Runtime, org_id: str) -> None:
    """More than 1,000 jobs is a ValueError naming the limit; nothing is enqueued."""
    with pytest.raises(ValueError, match="at most 1000"):
        runtime.enqueuer.enqueue_many([{**NOOP, "org_id": org_id}] * 1001)
    assert runtime.lanes.depth("action").laned == 0


def test_a_batch_across_orgs_is_admitted_and_run(runtime: Runtime, org_id: str) -> None:
    """Jobs of two orgs laned by one batch are all admitted and run, none dead-lettered."""
    from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
    from workers.inprocess import run_until_idle

    with runtime.sessions.begin() as session:
        other = OrganizationRepository(session).create(unique("other")).id
    jobs = [
        {**NOOP, "org_id": org, "priority": n % 10} for n in range(30) for org in (org_id, other)
    ]
    results = runtime.enqueuer.enqueue_many(jobs)
    assert not any(isinstance(r, InvalidJobError) for r in results)
    assert runtime.lanes.depth("action").orgs == 2
    run_until_idle(runtime.worker_broker, runtime.lanes, timeout_s=30)
    assert runtime.lanes.depth("action").total == 0
    with runtime.sessions() as session:
        dead = AdminDeadJobRepository(session)
        assert [dead.list(DeadJobFilter(org_id=org)) for org in (org_id, other)] == [[], []]
