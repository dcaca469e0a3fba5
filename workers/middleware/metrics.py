"""Counts job attempts and their outcomes for Prometheus."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware

from workers.metrics import (
    JOB_DURATION,
    JOB_QUEUE_WAIT,
    JOBS_FINISHED,
    JOBS_STARTED,
    queue_wait_seconds,
)
from workers.middleware.outcomes import job_fields, outcome_of


class JobMetrics(Middleware):
    """Started/finished counters and a duration histogram, labelled by queue, kind, provider."""

    _STARTED = "_switchyard_started"

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = job_fields(message)
        JOBS_STARTED.labels(message.queue_name, fields["kind"], fields["provider"]).inc()
        wait = queue_wait_seconds(
            message.message_timestamp, message.options.get("eta"), current_millis()
        )
        JOB_QUEUE_WAIT.labels(message.queue_name, fields["kind"]).observe(wait)
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
        if started is None:
            return
        JOB_DURATION.labels(message.queue_name, fields["kind"]).observe(
            time.perf_counter() - started
        )

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = job_fields(message)
        labels = (message.queue_name, fields["kind"], fields["provider"])
        JOBS_FINISHED.labels(*labels, outcome_of(message, None)).inc()
