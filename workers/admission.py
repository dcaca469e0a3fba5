"""The admission pump: moves jobs from lanes into the Dramatiq queue, fairly and shallowly.

Every worker process runs one pump thread (no leader; any number run at once, the admit
script is atomic). Each round, per consumed queue, one script call tops the Dramatiq ready
list up to ``target_depth`` from the lanes (see :mod:`workers.lanes`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from workers.lanes import Admitted, Lanes

logger = logging.getLogger("switchyard.admission")


class AdmissionPump:
    """Tops up Dramatiq queues from lanes; :meth:`run_once` is one round over all queues."""

    def __init__(
        self,
        broker: RedisBroker,
        lanes: Lanes,
        queues: Iterable[str],
        *,
        target_depth: int = 100,
        idle_interval_s: float = 0.05,
        busy_interval_s: float = 0.002,
    ) -> None:
        self.broker = broker
        self.lanes = lanes
        self.queues = sorted(queues)
        self.target_depth = target_depth
        self.idle_interval_s = idle_interval_s
        self.busy_interval_s = busy_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Admitted:
        """Admit what fits into every queue; returns the totals of the round."""
        rounds = [self.lanes.admit(queue, self.target_depth) for queue in self.queues]
        return Admitted(sum(r.moved for r in rounds), sum(r.backlog for r in rounds))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="admission", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                round_ = self.run_once()
            except Exception:  # Redis blip: log, back off, keep the process alive
                logger.exception("admission round failed")
                round_ = Admitted(moved=0, backlog=0)
            if round_.moved:
                continue
            # A full queue with a backlog drains fast: check back soon, not at idle pace.
            self._stop.wait(self.busy_interval_s if round_.backlog else self.idle_interval_s)


class Admission(Middleware):
    """Runs an :class:`AdmissionPump` for the queues this worker consumes."""

    def __init__(self, lanes: Lanes, *, target_depth: int, idle_poll_ms: int = 100) -> None:
        self.lanes = lanes
        self.target_depth = target_depth
        self.idle_poll_ms = idle_poll_ms
        self.pump: AdmissionPump | None = None

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # The queue is kept shallow, so consumers find it empty often; Dramatiq backs an idle
        # consumer off up to worker_timeout (1 s by default) — too slow to pick up a job that
        # was just admitted. Consumers are created after this hook, with this timeout.
        worker.worker_timeout = min(worker.worker_timeout, self.idle_poll_ms)

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        assert isinstance(broker, RedisBroker)
        queues = worker.consumer_whitelist or {
            q for q in broker.get_declared_queues() if "." not in q
        }
        self.pump = AdmissionPump(broker, self.lanes, queues, target_depth=self.target_depth)
        self.pump.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.pump is not None:
            self.pump.stop()
