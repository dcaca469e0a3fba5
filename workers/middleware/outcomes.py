"""One log line per job attempt outcome, so operators can follow a job by its id."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workers.errors import error_class_of
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


def job_fields(message: MessageProxy) -> dict[str, str]:
    """Low-risk identifying fields of a job message (never its payload)."""
    data = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    return {
        "id": str(data.get("id", message.message_id)),
        "kind": str(data.get("kind", "?")),
        "provider": str(data.get("provider", "?")),
        "org": str(data.get("org_id", "?")),
    }


class OutcomeLog(Middleware):
    """Logs ``job started`` / ``job succeeded`` / ``job retried`` / ``job dead_lettered``."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = job_fields(message)
        logger.info("job started %s attempt=%d", _fmt(fields), attempts_of(message))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        outcome = outcome_of(message, exception)
        fields = _fmt(job_fields(message))
        if exception is None:
            logger.info("job %s %s", outcome, fields)
        elif outcome == "deferred":
            logger.info(
                "job %s %s delay_ms=%s error=%s",
                outcome,
                fields,
                marked_delay_ms(message),
                error_class_of(exception),
            )
        else:
            logger.warning(
                "job %s %s error=%s: %s", outcome, fields, error_class_of(exception), exception
            )

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        logger.info(
            "job %s %s delay_ms=%s",
            outcome_of(message, None),
            _fmt(job_fields(message)),
            marked_delay_ms(message),
        )


def _fmt(fields: dict[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in fields.items())
