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

_fields: ContextVar[Mapping[str, str] | None] = ContextVar("switchyard_log_fields", default=None)


def log_fields() -> Mapping[str, str]:
    """The fields bound to the current job (empty outside one)."""
    return _fields.get() or {}


def bind_log_fields(fields: Mapping[str, str] | None) -> None:
    _fields.set(dict(fields) if fields else None)


def message_log_fields(message: MessageProxy) -> dict[str, str]:
    """Identifying fields of a job message; never its payload."""
    data = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    fields = {
        "job_id": str(data.get("id") or message.message_id),
        "correlation_id": str(data.get("correlation_id") or data.get("id") or message.message_id),
        "queue": message.queue_name,
    }
    for name in ("kind", "provider", "org_id"):
        if data.get(name):
            fields[name] = str(data[name])
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
