"""Parks jobs that failed for good in the durable dead-letter table, with their reason.

Runs after Dramatiq's ``Retries`` middleware, which marks a message *failed* when its error
is permanent or its retries are spent. Dramatiq then moves the message to its own Redis dead
set. Once the row is written, the message is taken out of that set again: what stays there
is exactly what the table lacks (a write that failed, database down), logged with the job
id, counted by ``switchyard_broker_dead_messages`` and imported into the table by the
scheduler (:mod:`workers.dead_set`) once the database answers. A job that failed for good
ends in the table either way.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import q_name
from dramatiq.errors import ActorNotFound
from dramatiq.middleware import Middleware
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from queueing.keys import QueueKeys
from queueing.lane_push import SHARD_OPTION
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from workers.errors import error_class_of
from workers.middleware.attempts import attempts_of, first_attempt_ms

logger = logging.getLogger("switchyard.dlq")
_RECORDED = "_switchyard_dead_job_recorded"
_DEAD_JOB_ID = "_switchyard_dead_job_id"
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
        self._record(message, exception)

    def before_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """A message for an actor this deployment lacks never reaches a worker thread:
        Dramatiq's consumer fails it at once. Record it here, before it is nacked."""
        exception = message._exception
        if isinstance(exception, ActorNotFound) and not message.__dict__.get(_RECORDED):
            try:
                self._record(message, exception)
            except Exception:  # logged; the dead-set import writes it later
                return

    def _record(self, message: MessageProxy, exception: BaseException) -> None:
        failed = failed_job(message, exception)
        try:
            with self.sessions.begin() as session:
                dead_job_id = AdminDeadJobRepository(session).add(failed).id
        except Exception:
            logger.exception(
                "could not record dead job id=%s; it stays in the broker",
                failed.job_id,
                extra={"job_id": failed.job_id, "dead_letter": "unrecorded"},
            )
            raise
        message.__dict__[_RECORDED] = True
        message.__dict__[_DEAD_JOB_ID] = dead_job_id

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        message_id = message.options.get("redis_message_id")
        if message.__dict__.get(_RECORDED) and isinstance(broker, RedisBroker) and message_id:
            shard = int(message.options.get(SHARD_OPTION, 0))  # the shard it was fetched from
            forget = [message_id]
            forget_dead_messages(broker.client, broker.namespace, message.queue_name, forget, shard)


def dead_job_id_of(message: MessageProxy) -> str | None:
    """The id of the dead job row written for this message (None if not written)."""
    dead_job_id: str | None = message.__dict__.get(_DEAD_JOB_ID)
    return dead_job_id


def dead_set_keys(namespace: str, queue: str, shard: int = 0) -> tuple[str, str]:
    """The dead set of one lane shard of ``queue`` (its tagged keys): a zset of message ids
    by time, their bodies."""
    return QueueKeys(namespace, queue, shard).dead_set


def forget_dead_messages(
    redis: Redis, namespace: str, queue: str, ids: Sequence[bytes | str], shard: int = 0
) -> None:
    """Take messages the table now holds out of the dead set of ``queue``'s ``shard``."""
    zset, bodies = dead_set_keys(namespace, queue, shard)
    pipe = redis.pipeline(transaction=True)
    pipe.zrem(zset, *ids)
    pipe.hdel(bodies, *ids)
    pipe.execute()


def failed_job(message: MessageProxy, exception: BaseException) -> FailedJob:
    """The dead-letter record of a failed message (envelope as sent, error, attempts, times)."""
    return describe_failure(
        message,
        error_class=error_class_of(exception),
        error_message=str(exception)[:MESSAGE_LIMIT],
        traceback_summary=_traceback_summary(exception),
    )


def describe_failure(
    message: MessageProxy,
    *,
    error_class: str,
    error_message: str,
    traceback_summary: str | None,
    failed_at: datetime | None = None,
) -> FailedJob:
    """A failed message's dead-letter record from what the message itself carries."""
    data = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    now = failed_at or datetime.now(UTC)
    first_ms = first_attempt_ms(message)
    first = datetime.fromtimestamp(first_ms / 1000, UTC) if first_ms else now
    return FailedJob(
        job_id=str(data.get("id") or message.message_id),
        org_id=str(data.get("org_id") or "unknown"),
        queue=q_name(message.queue_name),
        kind=str(data.get("kind") or "unknown"),
        provider=str(data.get("provider") or "unknown"),
        envelope=data,
        error_class=error_class,
        error_message=error_message,
        traceback_summary=traceback_summary,
        attempts=attempts_of(message),
        first_attempt_at=first,
        last_attempt_at=now,
    )


def _traceback_summary(exception: BaseException) -> str:
    frames = traceback.format_exception(type(exception), exception, exception.__traceback__)
    text = "".join(frames)
    return text[-TRACEBACK_LIMIT:]
