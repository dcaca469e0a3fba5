"""Triggers coalesce and deduplicate; schedules enqueue each slot once, even with two
schedulers; the scheduler loop keeps going when a task fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.repositories.sync_schedules import SyncScheduleRepository
from switchyard.runtime import Runtime
from switchyard.scheduler import PeriodicTask, Scheduler, default_tasks
from switchyard.services.errors import InvalidInput
from switchyard.services.syncs import (
    SyncTarget,
    SyncTrigger,
    enqueue_due_syncs,
    next_slot,
    set_schedule,
)
from tests.conftest import sandboxed_runtime
from tests.integration.syncs.helpers import HIGH_LIMITS, connect, last_run
from workers.inprocess import run_until_idle
from workers.sync import runs

pytestmark = pytest.mark.integration


def queued(rt: Runtime) -> int:
    return rt.lanes.depth("sync").total


def only_these_schedules(rt: Runtime) -> None:
    """Disable schedules earlier tests left in this worker's database: the scheduler sweeps
    every org, and these tests count what one sweep enqueues."""
    from sqlalchemy import update

    from storage.models import SyncSchedule

    with rt.sessions.begin() as session:
        session.execute(update(SyncSchedule).values(enabled=False))


def test_triggers_while_idle_enqueue_one_job_until_it_runs(synced: Runtime) -> None:
    """Two triggers before the run starts give one job; after it ran, a trigger enqueues anew."""
    c = connect(synced, "hubspot")
    trigger = SyncTrigger(synced.sessions, synced.enqueuer.enqueue)
    target = SyncTarget(c.org_id, "hubspot", "deals")
    first, second = trigger.trigger(target), trigger.trigger(target)
    assert (first.result, second.result) == ("enqueued", "duplicate")
    assert second.job_id == first.job_id and queued(synced) == 1
    run_until_idle(synced.worker_broker, synced.lanes, threads=2)
    assert last_run(synced, c, "deals").status == "succeeded"
    third = trigger.trigger(target)
    assert third.result == "enqueued" and third.job_id != first.job_id


def test_trigger_while_a_run_is_live_is_coalesced(synced: Runtime) -> None:
    """A trigger during a live run returns that run's id and enqueues nothing."""
    c = connect(synced, "hubspot")
    key = runs.RunKey(c.org_id, c.connection_id, "hubspot", "deals", "c" * 32, timedelta(60))
    held = runs.claim(synced.sessions, key, "full", lambda mode, cursor: {"request": {}})
    assert held is not None
    done = SyncTrigger(synced.sessions, synced.enqueuer.enqueue).trigger(
        SyncTarget(c.org_id, "hubspot", "deals")
    )
    assert (done.result, done.run_id, done.job_id) == ("coalesced", held.run_id, None)
    assert queued(synced) == 0


def test_trigger_refuses_unknown_model_and_connection(synced: Runtime) -> None:
    """Unknown models and connections are refused, naming the field."""
    c = connect(synced, "hubspot")
    trigger = SyncTrigger(synced.sessions, synced.enqueuer.enqueue)
    with pytest.raises(InvalidInput) as model_error:
        trigger.trigger(SyncTarget(c.org_id, "hubspot", "tickets"))
    assert model_error.value.errors[0].field == "payload.model"
    assert "known: contacts, deals" in model_error.value.errors[0].message
    with pytest.raises(InvalidInput) as connection_error:
        trigger.trigger(SyncTarget(c.org_id, "hubspot", "deals", connection="other"))
    assert connection_error.value.errors[0].field == "connection"


def test_interval_slots_are_aligned_and_cron_slots_follow_the_expression() -> None:
    """Every scheduler computes the same next slot from any time within a slot."""
    base = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert next_slot(900, None, base + timedelta(seconds=1)) == base + timedelta(minutes=15)
    assert next_slot(900, None, base + timedelta(seconds=899)) == base + timedelta(minutes=15)
    assert next_slot(None, "30 2 * * *", base) == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def test_schedule_input_is_validated(synced: Runtime) -> None:
    """Bad cron, too short intervals and both-or-neither are refused, naming the field."""
    c = connect(synced, "hubspot")
    target = SyncTarget(c.org_id, "hubspot", "deals")
    with pytest.raises(InvalidInput, match="cron"):
        set_schedule(synced.sessions, target, cron="every tuesday")
    with pytest.raises(InvalidInput, match="interval_seconds: must be at least 60"):
        set_schedule(synced.sessions, target, interval_seconds=5)
    with pytest.raises(InvalidInput, match="exactly one"):
        set_schedule(synced.sessions, target, interval_seconds=60, cron="* * * * *")


def test_due_schedule_is_enqueued_once_and_advanced(synced: Runtime) -> None:
    """A due schedule enqueues one job, then waits for its next slot."""
    only_these_schedules(synced)
    c = connect(synced, "hubspot")
    saved = set_schedule(
        synced.sessions, SyncTarget(c.org_id, "hubspot", "deals"), interval_seconds=3600
    )
    trigger = SyncTrigger(synced.sessions, synced.enqueuer.enqueue)
    assert enqueue_due_syncs(synced.sessions, trigger, saved.next_due_at - timedelta(1)) == 0
    due = saved.next_due_at + timedelta(seconds=1)
    assert enqueue_due_syncs(synced.sessions, trigger, due) == 1
    assert enqueue_due_syncs(synced.sessions, trigger, due) == 0
    with synced.sessions() as session:
        (schedule,) = SyncScheduleRepository(session, c.org_id).list()
    assert schedule.next_due_at == saved.next_due_at + timedelta(hours=1)
    assert queued(synced) == 1


@pytest.fixture
def second_scheduler(
    pg_synced: Runtime, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Runtime]:
    """Another runtime (own engine, Redis client, enqueuer) on the same servers."""
    yield from sandboxed_runtime(
        backend="servers",
        tmp_path=tmp_path / "second",
        namespace=pg_synced.settings.workers.namespace,
        request=request,
        providers=HIGH_LIMITS,
    )


def test_two_schedulers_enqueue_each_slot_once(
    pg_synced: Runtime, second_scheduler: Runtime
) -> None:
    """Two schedulers racing over the same due schedules enqueue every slot exactly once."""
    only_these_schedules(pg_synced)
    connections = [connect(pg_synced, "hubspot") for _ in range(5)]
    for c in connections:
        saved = set_schedule(
            pg_synced.sessions, SyncTarget(c.org_id, "hubspot", "deals"), interval_seconds=600
        )
    due = saved.next_due_at + timedelta(seconds=1)
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def tick(rt: Runtime) -> None:
        trigger = SyncTrigger(rt.sessions, rt.enqueuer.enqueue)
        barrier.wait()
        counts.append(enqueue_due_syncs(rt.sessions, trigger, due))
        counts.append(enqueue_due_syncs(rt.sessions, trigger, due))

    threads = [threading.Thread(target=tick, args=(rt,)) for rt in (pg_synced, second_scheduler)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == 5
    assert queued(pg_synced) == 5


def test_scheduler_runs_due_tasks_and_survives_a_failing_one() -> None:
    """A task that raises is logged and counted; the other tasks still run on time."""
    seen: list[str] = []
    clock = [0.0]

    def boom(now: datetime) -> None:
        raise RuntimeError("boom")

    scheduler = Scheduler(
        [PeriodicTask("boom", 10, boom), PeriodicTask("ok", 5, lambda now: seen.append("ok"))],
        clock=lambda: clock[0],
    )
    assert scheduler.run_once() == 2
    assert scheduler.run_once() == 0
    clock[0] = 5.0
    assert scheduler.run_once() == 1
    assert seen == ["ok", "ok"]


def test_default_tasks_include_syncs_refreshes_event_refan_retention_and_dead_sets(
    synced: Runtime,
) -> None:
    """The scheduler's registry runs due sync schedules, proactive refreshes, re-fans
    stalled events, applies retention and imports unrecorded dead jobs."""
    tasks = default_tasks(synced)
    names = ["sync_schedules", "token_refresh", "event_refan", "retention", "dead_set_import"]
    assert [t.name for t in tasks] == names
    assert Scheduler(tasks).run_once() == 5


def test_slot_enqueued_by_a_scheduler_that_died_before_advancing_is_not_enqueued_again(
    pg_synced: Runtime, second_scheduler: Runtime
) -> None:
    """If a scheduler enqueued a slot but never advanced the schedule, the next scheduler's
    enqueue of that slot is a duplicate (same idempotency key), not a second job."""
    only_these_schedules(pg_synced)
    c = connect(pg_synced, "hubspot")
    saved = set_schedule(
        pg_synced.sessions, SyncTarget(c.org_id, "hubspot", "deals"), interval_seconds=600
    )
    due = saved.next_due_at + timedelta(seconds=1)
    first = SyncTrigger(pg_synced.sessions, pg_synced.enqueuer.enqueue)
    assert enqueue_due_syncs(pg_synced.sessions, first, due) == 1
    with pg_synced.sessions.begin() as session:  # the advance is lost, as if never committed
        (schedule,) = SyncScheduleRepository(session, c.org_id).list()
        schedule.next_due_at = saved.next_due_at
    second = SyncTrigger(second_scheduler.sessions, second_scheduler.enqueuer.enqueue)
    assert enqueue_due_syncs(second_scheduler.sessions, second, due) == 0
    assert queued(pg_synced) == 1
