"""What handlers may use, built once per worker process by the composition root.

Middleware owns these resources (Polar's habit): actors fetch them with
:func:`current_context`, they never create engines or clients themselves.
"""

from __future__ import annotations

from collections.abc import Container
from contextvars import ContextVar
from dataclasses import dataclass

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from workers.envelope import Limits


@dataclass(frozen=True)
class WorkerContext:
    """Shared, thread-safe resources of one worker process."""

    providers: Container[str]
    limits: Limits
    sessions: sessionmaker[Session]
    redis: Redis
    namespace: str


_current: ContextVar[WorkerContext | None] = ContextVar("switchyard_worker_context", default=None)


def current_context() -> WorkerContext:
    """The context of the job being processed; set by :class:`ResourcesMiddleware`."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no worker context: ResourcesMiddleware is not installed")
    return context


def bind_context(context: WorkerContext | None) -> None:
    """Install (or clear) the context for the current thread."""
    _current.set(context)
