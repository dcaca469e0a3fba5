"""Counts job attempts and their outcomes for Prometheus."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workers.metrics import JOB_DURATION, JOBS_FINISHED, JOBS_STARTED
from workers.middleware.outcomes import job_fields, outcome_of


class JobMetrics(Middleware):
    """Started/finished counters and a duration histogram, labelled by queue, kind, provider."""

    _STARTED = "_switchyard_started"

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = job_fields(message)
        JOBS_STARTED.labels(message.queue_name, fields["kind"], fields["provider"]).inc()
        setattr(message, self._STARTED, time.perf_counter())

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        fields = job_fields(message)
        outcome = outcome_of(message, exception)
        labels = (message.queue_name, fields["kind"], fields["provider"])
        JOBS_FINISHED.labels(*labels, outcome).inc()
        started = getattr(message, self._STARTED, None)
        if started is not None:
            JOB_DURATION.labels(message.queue_name, fields["kind"]).observe(
                time.perf_counter() - started
            )
