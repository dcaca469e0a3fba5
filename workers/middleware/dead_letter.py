"""Parks jobs that failed for good in the durable dead-letter table, with their reason.

Runs after Dramatiq's ``Retries`` middleware, which marks a message *failed* when its error
is permanent or its retries are spent. Dramatiq also keeps the message in its own Redis dead
set (``dead_message_ttl``), so a dead-letter write that fails (database down) is logged with
the job id and still recoverable from there.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from sqlalchemy.orm import Session, sessionmaker

from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from workers.errors import error_class_of
from workers.middleware.attempts import attempts_of, first_attempt_ms

logger = logging.getLogger("switchyard.dlq")
TRACEBACK_LIMIT = 4_000
MESSAGE_LIMIT = 2_000


class DeadLetter(Middleware):
    """Writes one ``dead_jobs`` row per failed message."""

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
        if exception is None or not message.failed:
            return
        failed = failed_job(message, exception)
        try:
            with self.sessions.begin() as session:
                AdminDeadJobRepository(session).add(failed)
        except Exception:
            logger.exception(
                "could not record dead job id=%s; it stays in the broker", failed.job_id
            )
            raise


def failed_job(message: MessageProxy, exception: BaseException) -> FailedJob:
    """The dead-letter record of a failed message (envelope as sent, error, attempts, times)."""
    data = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    now = datetime.now(UTC)
    first_ms = first_attempt_ms(message)
    first = datetime.fromtimestamp(first_ms / 1000, UTC) if first_ms else now
    return FailedJob(
        job_id=str(data.get("id") or message.message_id),
        org_id=str(data.get("org_id") or "unknown"),
        queue=message.queue_name,
        kind=str(data.get("kind") or "unknown"),
        provider=str(data.get("provider") or "unknown"),
        envelope=data,
        error_class=error_class_of(exception),
        error_message=str(exception)[:MESSAGE_LIMIT],
        traceback_summary=_traceback_summary(exception),
        attempts=attempts_of(message),
        first_attempt_at=first,
        last_attempt_at=now,
    )


def _traceback_summary(exception: BaseException) -> str:
    frames = traceback.format_exception(type(exception), exception, exception.__traceback__)
    text = "".join(frames)
    return text[-TRACEBACK_LIMIT:]
