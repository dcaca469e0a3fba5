"""Beats this worker process's heartbeat in Redis while its Dramatiq worker runs."""

from __future__ import annotations

import logging
import threading

import dramatiq
from dramatiq.middleware import Middleware
from redis import Redis

from workers.heartbeat import BEAT_INTERVAL_S, beat, forget, worker_name

logger = logging.getLogger("switchyard.heartbeat")


class WorkerHeartbeat(Middleware):
    """A daemon thread beats every ``interval_s`` from worker boot until worker shutdown."""

    def __init__(self, redis: Redis, namespace: str, interval_s: float = BEAT_INTERVAL_S) -> None:
        self.redis = redis
        self.namespace = namespace
        self.interval_s = interval_s
        self.member = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.member = worker_name()  # after fork: the pid of the worker process
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
        while not self._stop.is_set():
            try:
                beat(self.redis, self.namespace, self.member)
            except Exception:
                logger.warning("heartbeat to Redis failed; retrying", exc_info=True)
            self._stop.wait(self.interval_s)
