"""Jobs through producer, broker and in-process workers, on both backends."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import dramatiq
import pytest

from contract.envelope import ActionJob, Kind
from contract.names import actor_name, queue_for
from producers.enqueue import Enqueuer
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from switchyard.runtime import Runtime
from tests.conftest import new_org
from tests.log_records import job_records
from workers.errors import TransientJobError
from workers.handlers.action import BUILTIN_ACTIONS
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.also_on_cluster  # real Redis Cluster as a third backend


def noop_job(org_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"action": "noop"},
        **extra,
    }


def drain(runtime: Runtime) -> None:
    """Run worker threads until every lane, queue and waiting set is empty."""
    run_until_idle(runtime.worker_broker, runtime.lanes, threads=4, timeout_s=30)


def outcomes(caplog: pytest.LogCaptureFixture) -> dict[str, list[str]]:
    """Job ids by outcome, from the workers' one-line outcome log."""
    found: dict[str, list[str]] = {}
    for record in job_records(caplog.records):
        found.setdefault(record.job_event, []).append(record.job_id)
    return found


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")  # progress lines too
    yield caplog


def dead_jobs(runtime: Runtime, **where: Any) -> list[Any]:
    with runtime.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(**where)))


def test_accepted_jobs_all_succeed(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture
) -> None:
    """Every accepted noop job is started and succeeds exactly once."""
    ids = {runtime.enqueuer.enqueue(noop_job(org_id)).job_id for _ in range(30)}
    drain(runtime)
    seen = outcomes(logs)
    assert sorted(seen["succeeded"]) == sorted(ids)
    assert sorted(seen["started"]) == sorted(ids)
    assert dead_jobs(runtime, org_id=org_id) == []


def test_idempotency_key_dedupes_within_window(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture
) -> None:
    """The same key returns the first id and runs the job once; another key is another job."""
    first = runtime.enqueuer.enqueue(noop_job(org_id, idempotency_key="order-1"))
    again = runtime.enqueuer.enqueue(noop_job(org_id, idempotency_key="order-1"))
    other = runtime.enqueuer.enqueue(noop_job(org_id, idempotency_key="order-2"))
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert again.job_id == first.job_id != other.job_id
    drain(runtime)
    assert sorted(outcomes(logs)["succeeded"]) == sorted([first.job_id, other.job_id])


def test_idempotency_keys_are_per_org(runtime: Runtime, org_id: str) -> None:
    """Two orgs using the same idempotency key get two jobs."""
    other_org = new_org(runtime, "other")
    a = runtime.enqueuer.enqueue(noop_job(org_id, idempotency_key="k"))
    b = runtime.enqueuer.enqueue(noop_job(other_org, idempotency_key="k"))
    assert not b.duplicate and a.job_id != b.job_id


def test_unknown_org_is_refused_at_enqueue(runtime: Runtime) -> None:
    """A job for an organization that does not exist is refused on org_id."""
    from contract.envelope import InvalidJobError

    with pytest.raises(InvalidJobError) as exc:
        runtime.enqueuer.enqueue(noop_job("nope"))
    assert [e.field for e in exc.value.errors] == ["org_id"]


def test_unsupported_action_goes_to_dlq_without_retry(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture
) -> None:
    """An action this version lacks (sent by a producer of another version, past the door)
    dead-letters at once: one attempt, its reason recorded."""
    other_version = Enqueuer(
        lanes=runtime.lanes,
        catalog=runtime.catalog,
        limits=runtime.limits,
        orgs=runtime.enqueuer.orgs,
        idempotency_window_seconds=60,
        door=lambda job: [],
    )
    job = other_version.enqueue(
        {
            "kind": "action",
            "org_id": org_id,
            "provider": "hubspot",
            "payload": {"action": "teleport"},
        }
    )
    drain(runtime)
    [dead] = dead_jobs(runtime, org_id=org_id)
    assert dead.job_id == job.job_id
    assert dead.error_class == "unsupported" and dead.attempts == 1
    assert "teleport" in dead.error_message
    assert dead.envelope["payload"] == {"action": "teleport", "input": {}}
    assert "retried" not in outcomes(logs)


def test_kind_without_handler_goes_to_dlq(
    runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kind this version cannot run is dead-lettered with that reason, not dropped."""
    from contract.envelope import Kind
    from workers.handlers import HANDLERS

    monkeypatch.delitem(HANDLERS, Kind.SYNC)  # a deployment without the sync handler
    runtime.enqueuer.enqueue(
        {"kind": "sync", "org_id": org_id, "provider": "hubspot", "payload": {"model": "contacts"}}
    )
    drain(runtime)
    [dead] = dead_jobs(runtime, org_id=org_id, kind="sync")
    assert dead.error_class == "unsupported" and "no handler for kind 'sync'" in dead.error_message


def test_transient_errors_retry_then_dead_letter(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job failing transiently is retried max_retries times, then dead-lettered with attempts."""
    calls: list[str] = []

    def flaky(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(job.id)
        raise TransientJobError("provider answered 503")

    monkeypatch.setitem(BUILTIN_ACTIONS, "flaky", flaky)
    max_retries = runtime.settings.workers.max_retries
    job = runtime.enqueuer.enqueue(
        {"kind": "action", "org_id": org_id, "provider": "hubspot", "payload": {"action": "flaky"}}
    )
    drain(runtime)
    assert calls == [job.job_id] * (max_retries + 1)
    [dead] = dead_jobs(runtime, org_id=org_id)
    assert dead.attempts == max_retries + 1
    assert dead.error_class == "transient" and dead.error_message == "provider answered 503"
    assert len(outcomes(logs)["retried"]) == max_retries


def fail_once_then_succeed(
    runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> tuple[str, list[str]]:
    """Run one job whose first attempt raises ``error``: its id, and the attempts seen."""
    calls: list[str] = []

    def once(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(job.id)
        if len(calls) == 1:
            raise error
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "once", once)
    job = runtime.enqueuer.enqueue(
        {"kind": "action", "org_id": org_id, "provider": "hubspot", "payload": {"action": "once"}}
    )
    drain(runtime)
    return job.job_id, calls


def test_transient_error_then_success_is_not_dead_lettered(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that fails once and then succeeds ends succeeded, with nothing in the DLQ."""
    job_id, calls = fail_once_then_succeed(
        runtime, org_id, monkeypatch, ConnectionError("reset by peer")
    )
    assert outcomes(logs)["succeeded"] == [job_id]
    assert len(calls) == 2 and dead_jobs(runtime, org_id=org_id) == []


def _levels(caplog: pytest.LogCaptureFixture, job_id: str) -> dict[str, int]:
    """The level each outcome line of one job was logged at."""
    found: dict[str, int] = {}
    for record in job_records(caplog.records):
        if record.job_id == job_id:
            found[record.job_event] = record.levelno
    return found


def test_progress_lines_are_debug_and_failures_info_by_default(
    runtime: Runtime, org_id: str, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started/succeeded are DEBUG by default; a retry is still logged at INFO or above."""
    error = TransientJobError("provider answered 503")
    job_id, _ = fail_once_then_succeed(runtime, org_id, monkeypatch, error)
    levels = _levels(logs, job_id)
    assert levels["started"] == levels["succeeded"] == logging.DEBUG
    assert levels["retried"] >= logging.INFO


def test_log_job_progress_setting_logs_progress_at_info(
    embedded_runtime_with: Callable[..., Runtime], logs: pytest.LogCaptureFixture
) -> None:
    """With workers.log_job_progress on, started/succeeded lines are INFO."""
    rt = embedded_runtime_with(log_job_progress=True)
    job = rt.enqueuer.enqueue(noop_job(new_org(rt)))
    drain(rt)
    assert _levels(logs, job.job_id) == {"started": logging.INFO, "succeeded": logging.INFO}


def test_worker_revalidates_messages_that_bypass_the_producer(
    runtime: Runtime, org_id: str
) -> None:
    """A message with an invalid envelope put straight on the queue is dead-lettered as invalid_job."""
    bad = {
        "id": "f" * 32,
        "kind": "action",
        "org_id": org_id,
        "provider": "myspace",
        "payload": {"action": "noop"},
    }
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_for(Kind.ACTION),
        actor_name=actor_name(Kind.ACTION),
        args=(bad,),
        kwargs={},
        options={},
    )
    runtime.worker_broker.enqueue(message)
    drain(runtime)
    [dead] = dead_jobs(runtime, org_id=org_id)
    assert dead.error_class == "invalid_job" and "provider" in dead.error_message
