"""Liveness of a worker process: beats while its Dramatiq worker runs, recovers dead peers.

One daemon thread, from worker boot to shutdown, every ``interval_s``:

* beats: this process in ``__switchyard_workers__`` (for the exporter), and its broker id in
  the beats set of every queue it consumes — the sets recovery reads. Beating from a thread rather than
  on fetch keeps a worker whose slots are all held by long jobs alive;
* renews the concurrency leases its running jobs hold
  (:class:`workers.middleware.leases.HeldLeases`), which otherwise lapse in one timeout;
* sweeps (:class:`workers.recovery.AckRecovery`): requeues the unacknowledged jobs of
  workers whose beat lapsed. It sweeps only after Redis has answered this process's beats
  for a whole heartbeat timeout, so after a Redis outage live peers get to beat again
  before anyone counts them dead.

A clean shutdown removes the process from the worker set but leaves its broker id to age
out: whatever it failed to hand back is then recovered like a dead worker's.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware
from redis import Redis

from workers.live_workers import BEAT_INTERVAL_S, beat, forget, worker_name
from workers.middleware.leases import HeldLeases
from workers.recovery import AckRecovery, stamp_beats

logger = logging.getLogger("switchyard.heartbeat")


class WorkerHeartbeat(Middleware):
    """Beats every ``interval_s``; renews ``leases`` and sweeps with ``recovery`` when given."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        interval_s: float = BEAT_INTERVAL_S,
        recovery: AckRecovery | None = None,
        leases: HeldLeases | None = None,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.interval_s = interval_s
        self.recovery = recovery
        self.leases = leases
        self.member = ""
        self.broker_id = ""
        self.queues: list[str] = []
        self.shards = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy_since: float | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.member = worker_name()  # after fork: the pid of the worker process
        self.broker_id = str(getattr(broker, "broker_id", ""))
        self.queues = sorted(broker.get_declared_queues())
        self.shards = int(getattr(broker, "lane_shards", 1))
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="switchyard-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s)
        try:
            forget(self.redis, self.namespace, self.member)
        except Exception:  # Redis gone at shutdown: the entry ages out instead
            logger.warning("could not remove heartbeat of %s", self.member)

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self._beat()
                if failing:
                    logger.warning("heartbeat to Redis works again")
                failing = False
                self._sweep()
            except Exception as exc:
                self._healthy_since = None
                if not failing:  # one line per outage, not one per beat
                    logger.warning("heartbeat to Redis failed (%s); retrying quietly", exc)
                failing = True
            self._stop.wait(self.interval_s)

    def _beat(self) -> None:
        beat(self.redis, self.namespace, self.member)
        if self.broker_id:
            stamp_beats(self.redis, self.namespace, self.queues, self.broker_id, self.shards)
        if self._healthy_since is None:
            self._healthy_since = time.monotonic()

    def _sweep(self) -> None:
        if self.recovery is None or self._healthy_since is None:
            return
        if time.monotonic() - self._healthy_since < self.recovery.heartbeat_timeout_ms / 1000:
            return
        self.recovery.sweep(current_millis())
