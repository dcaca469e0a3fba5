"""Importing failed jobs from the queues' dead sets in Redis into the dead-letter table.

The dead-letter middleware writes a row for every job that failed for good and then takes
the message out of the dead set; when that write fails (database down) the message
stays there. The scheduler's ``dead_set_import`` task writes those rows later, so every
failed job reaches the table (where operators list, replay and purge) even across a
database outage. The job's error itself was only logged at the time; the row says so, with
the last retried error the message carries. A body that is not a message at all is parked
raw, so nothing blocks the set or is lost. One scheduler imports at a time (a Redis lock);
a job id already in the table is not written twice (a crash between the write and the
removal, or a worker whose own write went through late).
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from dramatiq.broker import MessageProxy
from dramatiq.errors import DecodeError
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from queueing.keys import dead_set_import_lock
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from workers.bodies import decode_body
from workers.middleware.dead_letter import (
    MESSAGE_LIMIT,
    TRACEBACK_LIMIT,
    dead_set_keys,
    describe_failure,
    forget_dead_messages,
)

logger = logging.getLogger("switchyard.dlq")

UNRECORDED = "unrecorded"
"""``error_class`` of an imported job: its real error was logged, not kept."""
UNDECODABLE = "undecodable"
"""``error_class`` of a dead-set body that is not a message (kept raw, base64)."""
LOCK_MS = 60_000


def import_dead_sets(
    redis: Redis,
    namespace: str,
    queues: Sequence[str],
    sessions: sessionmaker[Session],
    *,
    batch: int = 500,
    shards: int = 1,
) -> dict[str, int]:
    """Write the dead-set messages of ``queues`` (every lane shard of each) missing from the
    table; how many, by queue.

    Returns an empty dict when another scheduler holds the import lock."""
    lock, token = dead_set_import_lock(namespace), uuid.uuid4().hex
    if not redis.set(lock, token, nx=True, px=LOCK_MS):
        return {}
    try:
        return {
            queue: sum(
                _import_queue(redis, namespace, (queue, shard), sessions, batch)
                for shard in range(shards)
            )
            for queue in queues
        }
    finally:
        if redis.get(lock) == token.encode():
            redis.delete(lock)


def _import_queue(
    redis: Redis,
    namespace: str,
    where: tuple[str, int],
    sessions: sessionmaker[Session],
    batch: int,
) -> int:
    """Import up to ``batch`` entries of the dead set of ``where``: (queue, lane shard)."""
    queue, shard = where
    zset, bodies = dead_set_keys(namespace, queue, shard)
    entries = cast(list[tuple[bytes, float]], redis.zrange(zset, 0, batch - 1, withscores=True))
    if not entries:
        return 0
    ids = [message_id for message_id, _ in entries]
    raw = cast(list[bytes | None], redis.hmget(bodies, ids))
    written = 0
    with sessions.begin() as session:
        repository = AdminDeadJobRepository(session)
        for (message_id, dead_ms), body in zip(entries, raw, strict=True):
            if body is None:  # the set and its bodies disagree: nothing to keep
                logger.warning("dead-set entry %s has no body; dropped", message_id.decode())
                continue
            failed = _unrecorded_failure(
                queue, message_id, body, datetime.fromtimestamp(dead_ms / 1000, UTC)
            )
            if repository.has_job(failed.job_id):
                continue
            repository.add(failed, dead_at=failed.last_attempt_at)
            written += 1
            logger.warning("imported dead job id=%s from the broker's dead set", failed.job_id)
    forget_dead_messages(redis, namespace, queue, ids, shard)
    return written


def _unrecorded_failure(
    queue: str, message_id: bytes, body: bytes, failed_at: datetime
) -> FailedJob:
    """The row for a message whose own row could not be written when it failed."""
    try:
        message = MessageProxy(decode_body(body, queue))
    except DecodeError:
        entry = message_id.decode()
        extra = {"dead_set_entry": entry, "dead_letter": "undecodable"}
        logger.error("dead-set message %s cannot be decoded; parked raw", entry, extra=extra)
        return _undecodable(queue, entry, body, failed_at)
    last_traceback = message.options.get("traceback")
    reason = "failed for good while the dead-letter table could not be written; recovered "
    reason += "from the broker's dead set (the worker logged the error)"
    if isinstance(last_traceback, str) and last_traceback.strip():
        reason += f"; last retried error: {last_traceback.strip().splitlines()[-1]}"
        summary: str | None = last_traceback[-TRACEBACK_LIMIT:]
    else:
        summary = None
    return describe_failure(
        message,
        error_class=UNRECORDED,
        error_message=reason[:MESSAGE_LIMIT],
        traceback_summary=summary,
        failed_at=failed_at,
    )


def _undecodable(queue: str, message_id: str, body: bytes, failed_at: datetime) -> FailedJob:
    """A body that is not a Dramatiq message, kept whole (base64) for an operator to read."""
    return FailedJob(
        job_id=message_id[:64],
        org_id="unknown",
        queue=queue,
        kind="unknown",
        provider="unknown",
        envelope={"undecodable_body_base64": base64.b64encode(body).decode()},
        error_class=UNDECODABLE,
        error_message="a message in the broker's dead set that is not a Dramatiq message; "
        "its raw body is in the envelope",
        first_attempt_at=failed_at,
        last_attempt_at=failed_at,
    )
