"""Two real `switchyard scheduler` processes over the same due schedules: one job per slot."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage.models import SyncSchedule
from storage.repositories.sync_schedules import SyncScheduleRepository
from switchyard.runtime import Runtime
from switchyard.services.syncs import SyncTarget, set_schedule
from tests.integration.observability.processes import SWITCHYARD, env_of
from tests.integration.syncs.helpers import connect
from tests.integration.workers.test_worker_processes import stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_scheduler_processes_enqueue_each_due_slot_once(
    pg_synced: Runtime, tmp_path: Path
) -> None:
    """Three schedules made due now, two schedulers ticking fast: three jobs, not six."""
    with pg_synced.sessions.begin() as session:
        session.execute(update(SyncSchedule).values(enabled=False))  # earlier tests' schedules
    made = []
    for _ in range(3):
        c = connect(pg_synced, "hubspot")
        target = SyncTarget(c.org_id, "hubspot", "deals")
        made.append((c, set_schedule(pg_synced.sessions, target, interval_seconds=3600)))
    with pg_synced.sessions.begin() as session:
        for _, schedule in made:
            session.execute(
                update(SyncSchedule)
                .where(SyncSchedule.id == schedule.id)
                .values(next_due_at=schedule.next_due_at - timedelta(hours=1))
            )
    env = {**env_of(pg_synced), "SWITCHYARD_SYNCS__SCHEDULER_TICK_SECONDS": "0.1"}
    schedulers = [
        subprocess.Popen(
            [*SWITCHYARD, "scheduler"],
            env=env,
            stdout=(tmp_path / f"s{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with pg_synced.sessions() as session:
                done = [
                    SyncScheduleRepository(session, c.org_id).list()[0].last_enqueued_at
                    for c, _ in made
                ]
            if all(done):
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a few more ticks of both schedulers
    finally:
        for process in schedulers:
            stop(process, signal.SIGTERM)
    assert all(done), [p.read_text() for p in tmp_path.glob("s*.log")]
    assert pg_synced.lanes.depth("sync").total == 3
    with pg_synced.sessions() as session:
        for c, schedule in made:
            (now_due,) = [s.next_due_at for s in SyncScheduleRepository(session, c.org_id).list()]
            assert now_due == schedule.next_due_at  # advanced to the next slot, once
