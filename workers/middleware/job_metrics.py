"""Counts job attempts and their outcomes for Prometheus."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware
from prometheus_client.metrics import MetricWrapperBase

from contract.metrics import (
    JOB_DURATION,
    JOB_QUEUE_WAIT,
    JOBS_FINISHED,
    JOBS_STARTED,
    queue_wait_seconds,
)
from workers.job_fields import job_fields
from workers.middleware.outcomes import outcome_of


@lru_cache(maxsize=4096)
def _child(metric: MetricWrapperBase, *labels: str) -> Any:
    """A labelled child, looked up once: ``labels()`` locks and validates on every call,
    a measurable cost at thousands of jobs a second. Label sets are few (queue, kind,
    provider, outcome), so the cache stays small."""
    return metric.labels(*labels)


class JobMetrics(Middleware):
    """Started/finished counters and a duration histogram, labelled by queue, kind, provider."""

    _STARTED = "_switchyard_started"

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        job = job_fields(message)
        _child(JOBS_STARTED, job.queue, job.kind, job.provider).inc()
        wait = queue_wait_seconds(
            message.message_timestamp, message.options.get("eta"), current_millis()
        )
        _child(JOB_QUEUE_WAIT, job.queue, job.kind).observe(wait)
        message.__dict__[self._STARTED] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        job = job_fields(message)
        outcome = outcome_of(message, exception)
        _child(JOBS_FINISHED, job.queue, job.kind, job.provider, outcome).inc()
        started = message.__dict__.get(self._STARTED)
        if started is None:
            return
        _child(JOB_DURATION, job.queue, job.kind).observe(time.perf_counter() - started)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        job = job_fields(message)
        outcome = outcome_of(message, None)
        _child(JOBS_FINISHED, job.queue, job.kind, job.provider, outcome).inc()
