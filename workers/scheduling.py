"""Putting a job message back to wait: retries, deferrals and not_before all go through here."""

from __future__ import annotations

import logging
from typing import Any, Literal

from dramatiq.broker import MessageProxy

from contract.metrics import RESCHEDULES_UNREPLICATED
from workers.job_fields import job_fields
from workers.lanes import JobCancelled, Lanes, NotReplicated, new_entry_id

logger = logging.getLogger("switchyard.backoff")

Outcome = Literal["succeeded", "retried", "deferred", "dead_lettered", "cancelled"]
_OUTCOME = "_switchyard_outcome"
_DELAY = "_switchyard_delay_ms"
_ENTRY = "_switchyard_entry_id"
_HANDED_BACK = "_switchyard_handed_back"


def reschedule(
    lanes: Lanes,
    message: MessageProxy,
    delay_ms: int,
    outcome: Outcome,
    *,
    priority: int | None = None,
) -> None:
    """Return the message (with its options) to its org's lane after ``delay_ms``; a
    ``priority`` places it in the lane without changing the job's own. A job whose cancel
    was asked is not returned: its outcome becomes ``cancelled``.

    With durable enqueue on (``SWITCHYARD_JOBS__ENQUEUE_REPLICAS``) the push waits for the
    replicas before the fetched message is acknowledged: an acknowledgement reaching a
    promoted replica that never got the push would lose the job."""
    data: dict[str, Any] = message.args[0]
    entry_id = new_entry_id()
    try:
        lanes.push_message(
            message,
            org=str(data["org_id"]),
            priority=int(data.get("priority", 5)) if priority is None else priority,
            delay_ms=delay_ms,
            entry_id=entry_id,
            job_id=job_fields(message).id,
        )
    except JobCancelled:
        outcome = "cancelled"
    except NotReplicated as exc:
        # Handing the message back as well would add a copy of the job at each deferral for
        # as long as the replicas are away.
        unreplicated(message.queue_name, message.message_id, exc)
    setattr(message, _OUTCOME, outcome)
    setattr(message, _DELAY, delay_ms)
    setattr(message, _ENTRY, entry_id)


def unreplicated(queue: str, job_id: str, exc: NotReplicated) -> None:
    """A job laned again (or parked) that no replica confirmed in time goes on as written:
    only a failover before a replica catches up could lose it, and a master whose replicas
    are away cannot fail over. Counted for the operator's alert."""
    RESCHEDULES_UNREPLICATED.labels(queue=queue).inc()
    logger.warning("job %s rescheduled unreplicated (%s)", job_id, exc)


def marked_entry_id(message: MessageProxy) -> str | None:
    """The lane entry id the message was rescheduled under, if it was."""
    entry: str | None = message.__dict__.get(_ENTRY)
    return entry


def marked_outcome(message: MessageProxy) -> Outcome | None:
    """The outcome a middleware recorded when it rescheduled the message, if any."""
    outcome: Outcome | None = message.__dict__.get(_OUTCOME)
    return outcome


def marked_delay_ms(message: MessageProxy) -> int | None:
    delay: int | None = message.__dict__.get(_DELAY)
    return delay


def hand_back(message: MessageProxy) -> None:
    """Return the message to its queue, as fetched, instead of acknowledging it: its
    rescheduling could not be written. The consumer's ack does it once Redis answers."""
    message.__dict__[_HANDED_BACK] = True


def handed_back(message: MessageProxy) -> bool:
    return bool(message.__dict__.get(_HANDED_BACK))
