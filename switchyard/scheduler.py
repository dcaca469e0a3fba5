"""``switchyard scheduler``: a loop running periodic tasks — a small registry of them.

Each :class:`PeriodicTask` is a name, a period and a function of the current time. The
scheduler holds no state of its own: the tasks keep theirs in the database and Redis and
are safe to run from several schedulers at once (sync schedules enqueue each slot once by
idempotency key, proactive refreshes once per credential and expiry; the event re-fan-out
finds only events still unfinished; retention deletes what is expired, whoever gets it
first; the dead-set import holds a Redis lock). A failing task is logged and counted, and the loop goes
on. Adding a task: append it in :func:`default_tasks`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contract.metrics import SCHEDULER_TASKS
from producers.proactive_refreshes import enqueue_due_refreshes
from storage.repositories.retention import Retention, purge_expired
from storage.types import utcnow
from switchyard.runtime import Runtime
from switchyard.services.syncs import SyncTrigger, enqueue_due_syncs
from workers.dead_set import import_dead_sets
from workers.inprocess import QUEUES

logger = logging.getLogger("switchyard.scheduler")

REFAN_PERIOD_SECONDS = 30.0
REFRESH_PERIOD_SECONDS = 60.0
REFAN_OLDER_THAN = timedelta(minutes=1)
RETENTION_PERIOD_SECONDS = 3600.0
DEAD_SET_PERIOD_SECONDS = 10.0


@dataclass
class PeriodicTask:
    """Run ``run(now)`` every ``every_seconds``."""

    name: str
    every_seconds: float
    run: Callable[[datetime], object]
    next_at: float = field(default=0.0, repr=False)


def default_tasks(runtime: Runtime) -> list[PeriodicTask]:
    """The tasks a scheduler runs: due sync schedules, proactive token refreshes (ahead of
    expiry by the catalog's margin), re-fan-out of stalled events, retention, and the import
    of failed jobs whose dead-letter row could not be written."""
    syncs = runtime.settings.syncs
    trigger = SyncTrigger(runtime.sessions, runtime.enqueuer.enqueue)
    return [
        PeriodicTask(
            "sync_schedules",
            syncs.scheduler_tick_seconds,
            lambda now: enqueue_due_syncs(
                runtime.sessions, trigger, now, batch=syncs.scheduler_batch
            ),
        ),
        PeriodicTask(
            "token_refresh",
            REFRESH_PERIOD_SECONDS,
            lambda now: enqueue_due_refreshes(runtime, now),
        ),
        PeriodicTask(
            "event_refan",
            REFAN_PERIOD_SECONDS,
            lambda now: runtime.event_publisher.refan_pending(older_than=REFAN_OLDER_THAN),
        ),
        PeriodicTask("retention", RETENTION_PERIOD_SECONDS, lambda now: purge(runtime, now)),
        PeriodicTask(
            "dead_set_import",
            DEAD_SET_PERIOD_SECONDS,
            lambda now: import_dead_sets(
                runtime.redis,
                runtime.settings.workers.namespace,
                QUEUES,
                runtime.sessions,
                shards=runtime.lanes.shards,
            ),
        ),
    ]


def purge(runtime: Runtime, now: datetime) -> dict[str, int]:
    """Delete history past its retention (settings ``actions``, ``syncs`` and ``webhooks``);
    logs and returns how many rows went, by table."""
    settings = runtime.settings
    keep = Retention(
        action_runs=timedelta(days=settings.actions.run_retention_days),
        sync_runs=timedelta(days=settings.syncs.run_history_days),
        events=timedelta(days=settings.webhooks.event_retention_days),
        inbound_webhooks=timedelta(days=settings.webhooks.event_retention_days),
    )
    deleted = purge_expired(runtime.sessions, now=now, keep=keep)
    if any(deleted.values()):
        logger.info("retention: %s", ", ".join(f"{t} {n}" for t, n in deleted.items()))
    return deleted


class Scheduler:
    """Runs due tasks; :meth:`run_once` for tests, :meth:`run_forever` for the command."""

    def __init__(
        self,
        tasks: list[PeriodicTask],
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.tasks = tasks
        self._clock = clock
        self._now = now

    def run_once(self) -> int:
        """Run every task whose time has come; returns how many ran."""
        ran = 0
        for task in self.tasks:
            if self._clock() < task.next_at:
                continue
            task.next_at = self._clock() + task.every_seconds
            ran += 1
            try:
                task.run(self._now())
            except Exception:
                SCHEDULER_TASKS.labels(task.name, "failed").inc()
                logger.exception("scheduler task %s failed", task.name)
            else:
                SCHEDULER_TASKS.labels(task.name, "ok").inc()
        return ran

    def run_forever(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set, sleeping until the next task is due."""
        logger.info("scheduler started: %s", ", ".join(t.name for t in self.tasks))
        while not stop.is_set():
            self.run_once()
            wait = min(t.next_at for t in self.tasks) - self._clock() if self.tasks else 1.0
            stop.wait(max(0.05, min(wait, 5.0)))
        logger.info("scheduler stopped")
