"""One log line per job attempt outcome, so operators can follow a job by its id."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workers.errors import error_class_of
from workers.job_fields import job_fields
from workers.middleware.attempts import attempts_of
from workers.scheduling import Outcome, marked_delay_ms, marked_outcome

logger = logging.getLogger("switchyard.jobs")


def outcome_of(message: MessageProxy, exception: BaseException | None) -> Outcome:
    """Classify an attempt after the Backoff middleware has decided (it must run first)."""
    marked = marked_outcome(message)
    if marked is not None:
        return marked
    if exception is None:
        return "succeeded"
    return "dead_lettered" if message.failed else "retried"


class OutcomeLog(Middleware):
    """Logs ``job started`` / ``job succeeded`` / ``job retried`` / ``job dead_lettered``.

    Retries, deferrals and dead letters are always logged. ``started`` and ``succeeded``
    happen for every job, thousands a second: writing them costs more than a no-op job
    itself, and ``switchyard_jobs_finished_total`` already counts them, so they are logged
    at DEBUG unless the operator asks for them (``log_job_progress``: INFO).
    """

    def __init__(self, *, progress_level: int = logging.DEBUG) -> None:
        self.progress_level = progress_level

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = job_fields(message)
        logger.log(
            self.progress_level,
            "job started %s attempt=%d",
            fields,
            attempts_of(message),
            extra=_extra("started", fields.id),
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        outcome = outcome_of(message, exception)
        fields = job_fields(message)
        if exception is None:
            level = self.progress_level if outcome == "succeeded" else logging.INFO
            logger.log(level, "job %s %s", outcome, fields, extra=_extra(outcome, fields.id))
        elif outcome == "deferred":
            logger.info(
                "job %s %s delay_ms=%s error=%s",
                outcome,
                fields,
                marked_delay_ms(message),
                error_class_of(exception),
                extra=_extra(outcome, fields.id, error_class_of(exception)),
            )
        else:
            error = error_class_of(exception)
            logger.warning(
                "job %s %s error=%s: %s",
                outcome,
                fields,
                error,
                exception,
                extra=_extra(outcome, fields.id, error),
            )

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        outcome, fields = outcome_of(message, None), job_fields(message)
        logger.info(
            "job %s %s delay_ms=%s",
            outcome,
            fields,
            marked_delay_ms(message),
            extra=_extra(outcome, fields.id),
        )


def _extra(event: str, job_id: str, error_class: str | None = None) -> dict[str, str]:
    """The structured fields of an outcome record (``job_event``, ``job_id``, ``error_class``):
    what log shippers and tests filter on, instead of parsing the message text."""
    extra = {"job_event": event, "job_id": job_id}
    if error_class is not None:
        extra["error_class"] = error_class
    return extra
