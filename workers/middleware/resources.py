"""Hands the process's shared resources to each job, and takes them back after."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workers.context import WorkerContext, bind_context


class Resources(Middleware):
    """Binds the :class:`WorkerContext` around every message a worker thread processes."""

    def __init__(self, context: WorkerContext) -> None:
        self.context = context

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        bind_context(self.context)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        bind_context(None)
