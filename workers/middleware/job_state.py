"""Records each attempt's transition in the job's state hash (:mod:`queueing.job_state`).

Writes go through a :class:`~queueing.job_state.StateWriter`, batched per worker process:
a transition costs two commands (HSET, EXPIRE on ``<queue tag>:job:<id>``; the queue and
org come from the message) in a pipeline shared with every other job's
transitions of the last few milliseconds, never a round trip of its own. It runs after the
Backoff and DeadLetter middleware have decided (its ``after`` hook is called after theirs),
so it records their verdict: retrying with the next attempt's time, waiting with its reason,
dead with the dead job's id, or cancelled when a retry was refused for a cancelled job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import q_name
from dramatiq.middleware import Middleware

from providers.errors import RateLimited
from queueing.job_state import JobRef, StateWriter, now_ms, take_result
from workers.errors import DeferredJobError, SlotDeferred, error_class_of
from workers.job_fields import job_fields
from workers.middleware.attempts import attempts_of
from workers.middleware.dead_letter import dead_job_id_of
from workers.middleware.outcomes import outcome_of
from workers.scheduling import marked_delay_ms, marked_entry_id

CompletionHook = Callable[[MessageProxy, str, dict[str, Any]], None]
"""Called once a job ended (succeeded or dead) with its final fields: completion events."""


def wait_reason(exception: BaseException | None) -> str:
    """Why a deferred job waits, in the words of ``JobStatus.waiting.reason``."""
    if exception is None:
        return "concurrency"  # deferred at admission: the key's concurrency cap
    if isinstance(exception, RateLimited):
        return "cooldown"  # the provider said wait: the key is paused for everyone
    if isinstance(exception, SlotDeferred):
        return "rate_limit"
    if isinstance(exception, DeferredJobError):
        return error_class_of(exception)
    return "outage"  # our Redis or database was unreachable


class JobStateTracking(Middleware):
    """Writes running / succeeded / retrying / waiting / dead / cancelled per attempt."""

    def __init__(self, writer: StateWriter, on_finished: CompletionHook | None = None) -> None:
        self.writer = writer
        self.on_finished = on_finished

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        take_result()  # nothing left over from this thread's last job
        at = now_ms()
        fields = {"state": "running", "started_at": at, "updated_at": at}
        fields["attempts"] = attempts_of(message)
        self.writer.put(job_ref(message), fields)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        fields = _after_attempt(message, exception)
        self.writer.put(job_ref(message), fields)
        if self.on_finished is not None and fields["state"] in ("succeeded", "dead"):
            self.on_finished(message, str(fields["state"]), fields)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.writer.put(job_ref(message), _rescheduled(message, None, "deferred"))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # What has ended so far goes out now, not after the threads drain: a second signal
        # (the operator insisting) ends the process without the after-shutdown hooks.
        self.writer.flush()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.writer.close()


def job_ref(message: MessageProxy) -> JobRef:
    """Where the message's job keeps its state: its queue and org, from the message."""
    job = job_fields(message)
    return JobRef(q_name(message.queue_name), job.org, job.id)


def _after_attempt(message: MessageProxy, exception: BaseException | None) -> dict[str, Any]:
    outcome = outcome_of(message, exception)
    at = now_ms()
    if outcome == "succeeded":
        done = {"state": "succeeded", "finished_at": at, "updated_at": at}
        result = take_result()
        return {**done, "result": result} if result else done
    if outcome == "dead_lettered":
        reason = error_class_of(exception) if exception is not None else "unknown"
        dead = {"dead_reason": reason, "dead_job_id": dead_job_id_of(message) or ""}
        return {"state": "dead", "finished_at": at, "updated_at": at, **dead}
    if outcome == "cancelled":
        return {"state": "cancelled", "finished_at": at, "updated_at": at}
    return _rescheduled(message, exception, outcome)


def _rescheduled(
    message: MessageProxy, exception: BaseException | None, outcome: str
) -> dict[str, Any]:
    at = now_ms()
    due = at + (marked_delay_ms(message) or 0)
    fields: dict[str, Any] = {"updated_at": at, "attempts": attempts_of(message)}
    entry = marked_entry_id(message)
    if entry:
        fields["entry"] = entry
    if outcome == "cancelled":
        return {**fields, "state": "cancelled", "finished_at": at}
    if outcome == "retried":
        error = error_class_of(exception) if exception is not None else ""
        retry = {"retry_attempt": attempts_of(message), "retry_next_at": due, "error_class": error}
        return {**fields, "state": "retrying", **retry}
    return {**fields, "state": "waiting", "wait_reason": wait_reason(exception), "wait_until": due}
