"""Failed jobs whose dead-letter row could not be written reach the table later, on both
backends: the queue's dead set in Redis keeps them, the scheduler's import writes them once."""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import pytest
from dramatiq import Message
from sqlalchemy.exc import OperationalError

from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from switchyard.runtime import Runtime
from tests.integration.dlq.conftest import dead_jobs, envelope
from tests.integration.workers.test_pipeline import drain
from workers.dead_set import UNDECODABLE, UNRECORDED, import_dead_sets
from workers.inprocess import QUEUES
from workers.middleware.dead_letter import dead_set_keys

pytestmark = pytest.mark.also_on_cluster  # real Redis Cluster as a third backend


class DatabaseDown(AdminDeadJobRepository):
    """The dead-letter table as the middleware sees it while the database is unreachable."""

    def add(self, failed: FailedJob, **_: Any) -> Any:
        raise OperationalError("INSERT INTO dead_jobs", {}, ConnectionError("server closed"))


def in_dead_set(runtime: Runtime, queue: str = "action") -> int:
    zset, bodies = dead_set_keys(runtime.settings.workers.namespace, queue)
    assert runtime.redis.zcard(zset) == runtime.redis.hlen(bodies)
    return int(runtime.redis.zcard(zset))


def import_now(runtime: Runtime) -> dict[str, int]:
    namespace = runtime.settings.workers.namespace
    return import_dead_sets(runtime.redis, namespace, QUEUES, runtime.sessions)


def park_in_dead_set(runtime: Runtime, body: bytes, message_id: str, at_ms: int) -> None:
    zset, bodies = dead_set_keys(runtime.settings.workers.namespace, "action")
    runtime.redis.zadd(zset, {message_id: at_ms})
    runtime.redis.hset(bodies, message_id, body)


def test_a_recorded_dead_job_leaves_nothing_in_the_broker_dead_set(
    runtime: Runtime, org_id: str, teleport: dict[str, Any]
) -> None:
    """Once its row is written, a failed job is taken out of the queue's dead set."""
    runtime.enqueuer.enqueue(teleport)
    drain(runtime)
    assert len(dead_jobs(runtime, org_id)) == 1
    assert in_dead_set(runtime) == 0


def test_a_dead_job_whose_row_failed_is_imported_once_by_the_scheduler(
    runtime: Runtime,
    org_id: str,
    teleport: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Database down at dead-letter time: the job waits in the dead set, then the import
    writes its row (envelope intact, reason given) and empties the set; again is a no-op."""
    monkeypatch.setattr("workers.middleware.dead_letter.AdminDeadJobRepository", DatabaseDown)
    job_id = runtime.enqueuer.enqueue(teleport).job_id
    with caplog.at_level(logging.ERROR, logger="switchyard.dlq"):
        drain(runtime)
    unrecorded = [r for r in caplog.records if getattr(r, "dead_letter", None) == "unrecorded"]
    assert [r.job_id for r in unrecorded] == [job_id]
    assert dead_jobs(runtime, org_id) == []
    assert in_dead_set(runtime) == 1
    monkeypatch.undo()

    assert import_now(runtime)["action"] == 1
    [row] = dead_jobs(runtime, org_id)
    assert (row.job_id, row.queue, row.provider) == (job_id, "action", "hubspot")
    assert row.error_class == UNRECORDED and "broker's dead set" in row.error_message
    assert row.envelope["payload"]["input"]["path"] == "/teleport" and row.attempts == 1
    assert in_dead_set(runtime) == 0
    assert import_now(runtime)["action"] == 0
    assert len(dead_jobs(runtime, org_id)) == 1


def test_a_job_already_in_the_table_is_not_imported_twice(
    runtime: Runtime, org_id: str, teleport: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that died between writing the row and clearing the set: the import only
    clears the set."""
    monkeypatch.setattr("workers.middleware.dead_letter.forget_dead_messages", lambda *a: None)
    runtime.enqueuer.enqueue(teleport)
    drain(runtime)
    assert in_dead_set(runtime) == 1

    assert import_now(runtime)["action"] == 0
    assert in_dead_set(runtime) == 0
    assert len(dead_jobs(runtime, org_id)) == 1


def test_the_last_retried_error_carried_by_the_message_is_kept(
    runtime: Runtime, org_id: str
) -> None:
    """The import names the error of the last retry and keeps its traceback."""
    data = envelope(org_id)
    traceback = 'Traceback (most recent call last):\n  File "x.py"\nValueError: boom\n'
    message = Message(
        queue_name="action",
        actor_name="run_job",
        args=(data,),
        kwargs={},
        options={"traceback": traceback, "switchyard_attempts": 3},
    )
    park_in_dead_set(runtime, message.encode(), message.message_id, 1_790_000_000_000)

    assert import_now(runtime)["action"] == 1
    [row] = dead_jobs(runtime, org_id)
    assert row.job_id == data["id"]
    assert row.error_message.endswith("last retried error: ValueError: boom")
    assert row.traceback_summary == traceback
    assert row.dead_at.year == 2026


def test_an_undecodable_message_is_parked_raw_and_named(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing is dropped or stuck: a body that is not a message becomes a dead job holding
    the raw bytes (base64), and the log names it."""
    garbled, entry = b"\xffnot json", f"garbled-{uuid.uuid4().hex[:8]}"  # one database, 2 runs
    park_in_dead_set(runtime, garbled, entry, 1_790_000_000_000)
    with caplog.at_level(logging.ERROR, logger="switchyard.dlq"):
        assert import_now(runtime)["action"] == 1
    undecodable = [r for r in caplog.records if getattr(r, "dead_letter", None) == "undecodable"]
    assert [r.dead_set_entry for r in undecodable] == [entry]
    assert in_dead_set(runtime) == 0
    [row] = [d for d in dead_jobs(runtime, "unknown") if d.job_id == entry]
    assert row.error_class == UNDECODABLE and row.queue == "action"
    assert base64.b64decode(row.envelope["undecodable_body_base64"]) == garbled


def test_one_scheduler_imports_at_a_time(runtime: Runtime, org_id: str) -> None:
    """While another scheduler holds the import lock, an import does nothing."""
    message = Message(
        queue_name="action", actor_name="run_job", args=(envelope(org_id),), kwargs={}, options={}
    )
    park_in_dead_set(runtime, message.encode(), message.message_id, 1_790_000_000_000)
    runtime.redis.set(f"{runtime.settings.workers.namespace}:__dead_set_import__", "other")

    assert import_now(runtime) == {}
    assert in_dead_set(runtime) == 1 and dead_jobs(runtime, org_id) == []
