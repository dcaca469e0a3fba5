"""DELETE /v1/jobs/{id}: cancel queued, waiting and running jobs; races with admission."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contract.envelope import ActionJob
from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import auth
from tests.integration.jobs.conftest import drain, noop
from tests.integration.jobs.test_job_state import enqueue, status
from workers.errors import TransientJobError
from workers.handlers.action import BUILTIN_ACTIONS


def cancel(client: TestClient, key: str, job_id: str) -> tuple[int, dict[str, Any]]:
    response = client.delete(f"/v1/jobs/{job_id}", headers=auth(key))
    body: dict[str, Any] = response.json()
    return response.status_code, body


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Install the ``count`` action; returns the ids of the jobs it ran, in order."""
    ran: list[str] = []

    def count(job: ActionJob, context: object) -> Mapping[str, Any]:
        ran.append(job.id)
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "count", count)
    return ran


def test_queued_job_is_cancelled_and_never_runs(
    runtime: Runtime, client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued job cancelled is reported cancelled and its handler never runs."""
    ran = counting(monkeypatch)
    job_id = enqueue(client, keys["key_a"], noop(payload={"action": "count"}))
    code, body = cancel(client, keys["key_a"], job_id)
    assert code == 200 and body["state"] == "cancelled" and body["cancel_requested"] is True
    drain(runtime)
    assert ran == [] and status(client, keys["key_a"], job_id)["state"] == "cancelled"


def test_waiting_job_is_cancelled(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """A job waiting for not_before is taken out of the waiting set: nothing is left."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    job_id = enqueue(client, keys["key_a"], noop(not_before=later))
    code, body = cancel(client, keys["key_a"], job_id)
    assert code == 200 and body["state"] == "cancelled" and body["waiting"] is None
    assert runtime.lanes.depth("action").total == 0


def test_finished_job_is_409_and_unknown_404(
    runtime: Runtime, client: TestClient, keys: dict[str, str]
) -> None:
    """Cancelling a job that ended is 409; another org's job, 404 (ids do not leak)."""
    job_id = enqueue(client, keys["key_a"], noop())
    drain(runtime)
    code, body = cancel(client, keys["key_a"], job_id)
    assert code == 409 and body["error"]["code"] == "conflict"
    assert cancel(client, keys["key_b"], job_id)[0] == 404
    assert status(client, keys["key_a"], job_id)["state"] == "succeeded"


def test_running_job_cancelled_is_not_retried(
    runtime: Runtime, client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running job marked cancelled fails transiently once and ends cancelled, not retrying."""
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_flaky(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(job.id)
        started.set()
        release.wait(10)
        raise TransientJobError("provider answered 503")

    monkeypatch.setitem(BUILTIN_ACTIONS, "slow_flaky", slow_flaky)
    job_id = enqueue(client, keys["key_a"], noop(payload={"action": "slow_flaky"}))
    workers = threading.Thread(target=drain, args=(runtime,))
    workers.start()
    try:
        assert started.wait(10)
        code, body = cancel(client, keys["key_a"], job_id)
        assert code == 200 and body["state"] == "running" and body["cancel_requested"] is True
    finally:
        release.set()
        workers.join(30)
    final = status(client, keys["key_a"], job_id)
    assert calls == [job_id] and final["state"] == "cancelled" and final["retry"] is None


def test_cancel_races_admission_each_job_cancelled_or_ran_once(
    server_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling 300 jobs while workers admit and run them: each is cancelled and never ran,
    or ran exactly once and succeeded; none is lost (real Redis)."""
    from switchyard.api.app import create_app
    from tests.integration.credentials.api_helpers import org_keys

    ran = counting(monkeypatch)
    keys = org_keys(server_runtime)
    with TestClient(create_app(server_runtime)) as client:
        ids = [
            enqueue(client, keys["key_a"], noop(payload={"action": "count"})) for _ in range(300)
        ]
        random.Random(19).shuffle(ids)
        workers = threading.Thread(target=drain, args=(server_runtime,))
        workers.start()
        answers = {job_id: cancel(client, keys["key_a"], job_id) for job_id in ids}
        workers.join(60)
        finals = {job_id: status(client, keys["key_a"], job_id)["state"] for job_id in ids}
    cancelled = {
        i for i, (code, body) in answers.items() if code == 200 and body["state"] == "cancelled"
    }
    assert not cancelled & set(ran), "a job reported cancelled also ran"
    assert sorted(ran) == sorted(set(ids) - cancelled), "a job ran twice or was lost"
    assert {finals[i] for i in cancelled} <= {"cancelled"}
    assert {finals[i] for i in set(ids) - cancelled} <= {"succeeded"}
    assert 0 < len(cancelled) < len(ids), "the race was not exercised"
