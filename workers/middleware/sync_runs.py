"""Closes the sync run of a sync job that is dead-lettered mid-run."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import Kind
from contract.metrics import SYNC_RUNS
from workers.errors import error_class_of
from workers.job_fields import job_fields
from workers.sync import runs

logger = logging.getLogger("switchyard.syncs")


class DeadSyncRuns(Middleware):
    """A sync job that failed for good (transient errors until its retries ran out, say)
    closes the run it was driving as failed, with the reason, at once: the run history is
    right, and the next job for that model starts a fresh run instead of being coalesced into
    a dead one until the lease expires. (Permanent errors close the run in the engine.)"""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        job = job_fields(message)
        if exception is None or not message.failed or job.kind != Kind.SYNC.value:
            return
        reason = f"dead-lettered ({error_class_of(exception)}): {exception}"
        for model in runs.abandon(self.sessions, job.org, job.id, reason):
            SYNC_RUNS.labels(job.provider, model, "failed").inc()
            logger.info("sync run closed as failed: job %s was dead-lettered", job.id)
