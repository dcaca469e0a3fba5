"""Fields that identify the job being processed, attached to every log record it causes.

Handlers and middleware log plain messages; the process's log formatter (JSON mode) adds
whatever :func:`log_fields` holds — the job id, its correlation id, kind, provider, queue —
so an operator can follow one job, or one upstream request, across processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workers.job_fields import job_fields

_fields: ContextVar[Mapping[str, str] | None] = ContextVar("switchyard_log_fields", default=None)


def log_fields() -> Mapping[str, str]:
    """The fields bound to the current job (empty outside one)."""
    return _fields.get() or {}


def bind_log_fields(fields: Mapping[str, str] | None) -> None:
    _fields.set(dict(fields) if fields else None)


def message_log_fields(message: MessageProxy) -> dict[str, str]:
    """Identifying fields of a job message; never its payload."""
    job = job_fields(message)
    fields = {"job_id": job.id, "correlation_id": job.correlation_id, "queue": job.queue}
    for name, value in (("kind", job.kind), ("provider", job.provider), ("org_id", job.org)):
        if value != "?":
            fields[name] = value
    return fields


class JobLogContext(Middleware):
    """Binds :func:`message_log_fields` around each message a worker thread processes."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        bind_log_fields(message_log_fields(message))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        bind_log_fields(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        bind_log_fields(None)
