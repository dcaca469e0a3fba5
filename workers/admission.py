"""Admission: jobs move from the lanes into a Dramatiq queue when a consumer fetches.

There is no pump thread and no leader: every fetch of every worker process first runs the
atomic admit script for as many jobs as that consumer has room for (see
:mod:`workers.lane_broker` and :mod:`workers.lanes`), so admission keeps pace with
consumption exactly and the Dramatiq queue stays about one fetch deep. An idle consumer
still fetches every ``idle_poll_ms``: that is how fast a job arriving at an idle worker (or
a waiting job coming due) is picked up.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Middleware


class Admission(Middleware):
    """Bounds how long an idle consumer sleeps between fetches (each fetch admits)."""

    def __init__(self, *, idle_poll_ms: int = 100) -> None:
        self.idle_poll_ms = idle_poll_ms

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Dramatiq backs an idle consumer off up to worker_timeout (1 s by default): too slow
        # to pick up a job that was just enqueued. Consumers are created after this hook.
        worker.worker_timeout = min(worker.worker_timeout, self.idle_poll_ms)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Acknowledgements ride on fetches (workers.lane_broker); the last ones go now.
        flush = getattr(broker, "flush_acks", None)
        if flush is not None:
            flush()
