"""switchyard.client against a live API: uvicorn on a loopback port, real Redis + PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from storage.repositories.organizations import OrganizationRepository
from switchyard.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    InvalidInputError,
    Job,
    NotFoundError,
)
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.client.conftest import Live
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration
NOOP = {"kind": "action", "provider": "stripe", "payload": {"action": "noop"}}


@contextmanager
def workers_draining(runtime: Runtime) -> Iterator[None]:
    """Worker threads run the queued jobs in the background until the block ends."""
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            run_until_idle(runtime.worker_broker, runtime.lanes, threads=4, timeout_s=30)
        except BaseException as exc:  # reported to the test, not lost in the thread
            failures.append(exc)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    yield
    thread.join(timeout=40)
    assert not failures, failures


def _other_org_key(live: Live) -> str:
    with live.runtime.sessions.begin() as session:
        other = OrganizationRepository(session).create(unique("other")).id
        return ApiKeyRepository(session).create(other, "o").key.reveal()


def test_enqueue_dedupes_by_key_and_refuses_unknown_actions(live: Live) -> None:
    """enqueue() answers the id; the same key answers it again; 'teleport' is refused, named."""
    with Client(live.base, live.org_key) as sy:
        first = sy.enqueue(Job(**NOOP, idempotency_key="live-1"))
        again = sy.enqueue({**NOOP, "idempotency_key": "live-1"})
        own = sy.enqueue(NOOP)
        with pytest.raises(InvalidInputError) as refused:
            sy.enqueue({**NOOP, "payload": {"action": "teleport"}})
    assert (first.duplicate, again.duplicate, again.id) == (False, True, first.id)
    assert not own.duplicate and own.id != first.id
    assert [f.field for f in refused.value.fields] == ["payload.action"]


def test_enqueue_batch_reports_partial_success(live: Live) -> None:
    """enqueue_batch() answers per item: ids for the valid jobs, errors naming the field."""
    jobs = [
        NOOP,
        {**NOOP, "payload": {"action": "teleport"}},
        NOOP,
        {**NOOP, "provider": "myspace"},
    ]
    with Client(live.base, live.org_key) as sy:
        result = sy.enqueue_batch(jobs)
    assert (result.accepted, result.rejected) == (2, 2)
    assert [item.index for item in result.items] == [0, 1, 2, 3]
    assert [item.id is not None for item in result.items] == [True, False, True, False]
    assert (
        result.items[1].error is not None
        and result.items[1].error.fields[0].field == "payload.action"
    )
    assert result.items[3].error is not None and result.items[3].error.fields[0].field == "provider"


def test_admin_names_the_org_by_name(live: Live) -> None:
    """An admin key may name the org by its unique name, in a job and in a batch item."""
    with Client(live.base, live.admin_key) as sy:
        created = sy.enqueue({**NOOP, "org_id": live.org_name})
        batch = sy.enqueue_batch(
            [{**NOOP, "org_id": live.org_name}, {**NOOP, "org_id": "no-such-org"}]
        )
    assert not created.duplicate
    assert (batch.accepted, batch.rejected) == (1, 1)
    assert batch.items[1].error is not None and batch.items[1].error.fields[0].field == "org_id"


def test_publish_event_dedupes_by_key(live: Live) -> None:
    """publish_event() stores the event once per idempotency key."""
    with Client(live.base, live.org_key) as sy:
        first = sy.publish_event("order.created", {"order_id": "A-1"}, idempotency_key="ev-1")
        again = sy.publish_event("order.created", {"order_id": "A-1"}, idempotency_key="ev-1")
    assert (first.duplicate, again.duplicate, again.id) == (False, True, first.id)


def test_connections_list_show_and_check(live: Live) -> None:
    """A Stripe connection made over HTTP is listed, shown and checked through the client."""
    made = httpx.post(
        f"{live.base}/v1/connections",
        json={"provider": "stripe", "api_key": "sk_test_sandbox"},
        headers={"Authorization": f"Bearer {live.org_key}"},
    )
    assert made.status_code == 201, made.text
    connection_id = made.json()["id"]
    with Client(live.base, live.org_key) as sy:
        listed = sy.connections(provider="stripe")
        shown = sy.connection(connection_id)
        checked = sy.check_connection(connection_id)
    assert connection_id in [c.id for c in listed.items]
    assert (shown.provider, shown.status) == ("stripe", "connected")
    assert checked.ok and checked.connection_id == connection_id


def test_dead_jobs_list_show_and_replay(live: Live) -> None:
    """A dead job is listed, shown and replayed (as a new job) with an admin key."""
    envelope = {
        "id": uuid.uuid4().hex,
        "kind": "action",
        "org_id": live.org_id,
        "provider": "stripe",
        "payload": {"action": "noop", "input": {}},
    }
    failed = FailedJob(
        job_id=envelope["id"],
        org_id=live.org_id,
        queue="action",
        kind="action",
        provider="stripe",
        envelope=envelope,
        error_class="unsupported",
        error_message="parked by the test",
        attempts=1,
    )
    with live.runtime.sessions.begin() as session:
        dead_id = AdminDeadJobRepository(session).add(failed).id
    with Client(live.base, live.admin_key) as sy:
        page = sy.dead_jobs(org=live.org_id, limit=10)
        shown = sy.dead_job(dead_id)
        replayed = sy.replay_dead_jobs([dead_id])
    assert dead_id in [d.id for d in page.items] and page.total >= 1
    assert shown.id == dead_id
    assert [r.dead_job_id for r in replayed.replayed] == [dead_id] and replayed.refused == []


def test_async_client_enqueues_and_maps_a_bad_key(live: Live) -> None:
    """AsyncClient enqueues one job and a batch; a wrong key raises AuthenticationError."""

    async def run() -> tuple[bool, int]:
        async with AsyncClient(live.base, live.org_key) as sy:
            created = await sy.enqueue(NOOP)
            batch = await sy.enqueue_batch([NOOP, NOOP])
        async with AsyncClient(live.base, "sy_wrong") as bad:
            with pytest.raises(AuthenticationError):
                await bad.enqueue(NOOP)
        return created.duplicate, batch.accepted

    assert asyncio.run(run()) == (False, 2)


def test_wait_follows_a_job_to_succeeded_and_get_shows_it(live: Live) -> None:
    """wait() returns once the workers ran the job; get() shows its attempt and result."""
    with Client(live.base, live.org_key) as sy:
        created = sy.enqueue(NOOP)
        queued = sy.get(created.id)
        with workers_draining(live.runtime):
            done = sy.wait(created.id, timeout=30)
        shown = sy.get(created.id)
    assert (queued.state, queued.attempts, queued.org_id) == ("queued", 0, live.org_id)
    assert (done.state, done.attempts, done.result) == ("succeeded", 1, {"ok": True})
    assert shown.started_at and shown.finished_at and shown.finished_at >= shown.started_at


def test_cancel_a_waiting_job_then_a_finished_one_conflicts(live: Live) -> None:
    """A not_before job is cancelled; cancelling it again (finished) raises ConflictError."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with Client(live.base, live.org_key) as sy:
        created = sy.enqueue({**NOOP, "not_before": later})
        waiting = sy.get(created.id)
        cancelled = sy.cancel(created.id)
        with pytest.raises(ConflictError):
            sy.cancel(created.id)
        after = sy.get(created.id)
    assert waiting.state == "waiting" and waiting.waiting is not None
    assert waiting.waiting.reason == "not_before"
    assert (cancelled.state, after.state) == ("cancelled", "cancelled")


def test_cancel_of_a_succeeded_job_conflicts(live: Live) -> None:
    """A job that ran to success cannot be cancelled: ConflictError, the state unchanged."""
    with Client(live.base, live.org_key) as sy:
        created = sy.enqueue(NOOP)
        with workers_draining(live.runtime):
            sy.wait(created.id, timeout=30)
        with pytest.raises(ConflictError):
            sy.cancel(created.id)
        assert sy.get(created.id).state == "succeeded"


def test_another_orgs_job_is_not_found(live: Live) -> None:
    """Another org's key gets NotFoundError from get(), cancel() and wait() for this job."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with Client(live.base, live.org_key) as sy:
        created = sy.enqueue({**NOOP, "not_before": later})
        with Client(live.base, _other_org_key(live)) as other:
            for call in (other.get, other.cancel, other.wait):
                with pytest.raises(NotFoundError):
                    call(created.id)
        assert sy.get(created.id).state == "waiting"
        sy.cancel(created.id)  # no job left waiting for the next test's workers


def test_async_client_waits_gets_and_cancels(live: Live) -> None:
    """AsyncClient: wait() until succeeded, get() the result, cancel() a waiting job."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    async def run() -> tuple[str, int, str, str]:
        async with AsyncClient(live.base, live.org_key) as sy:
            created = await sy.enqueue(NOOP)
            with workers_draining(live.runtime):
                done = await sy.wait(created.id, timeout=30)
            shown = await sy.get(created.id)
            deferred = await sy.enqueue({**NOOP, "not_before": later})
            cancelled = await sy.cancel(deferred.id)
            with pytest.raises(ConflictError):
                await sy.cancel(created.id)
        return done.state, shown.attempts, cancelled.state, (await _state(live, deferred.id))

    assert asyncio.run(run()) == ("succeeded", 1, "cancelled", "cancelled")


async def _state(live: Live, job_id: str) -> str:
    async with AsyncClient(live.base, live.org_key) as sy:
        return (await sy.get(job_id)).state
