"""Running workers inside the current process until all work is done (demo, tests, embedded).

"Done" means: every lane and waiting set of every queue is empty, and Dramatiq
holds no message (queued or unacknowledged) — seen twice in a row, since a job being
rescheduled is written to its lane before its attempt is acknowledged.
"""

from __future__ import annotations

import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from contract.envelope import Kind
from workers.lanes import Lanes

QUEUES = tuple(kind.value for kind in Kind)


class StillBusy(TimeoutError):
    """Work remained when the time ran out."""


def pending(broker: RedisBroker, lanes: Lanes) -> int:
    """Jobs not yet finished, anywhere in Redis."""
    return sum(lanes.depth(q).total + int(broker.do_qsize(q)) for q in QUEUES)


def run_until_idle(
    broker: RedisBroker, lanes: Lanes, *, threads: int = 8, timeout_s: float = 60.0
) -> None:
    """Start worker threads, wait until no work is left, stop them."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=20)
    worker.start()
    try:
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise StillBusy(f"{pending(broker, lanes)} jobs still pending after {timeout_s}s")
            quiet = quiet + 1 if pending(broker, lanes) == 0 else 0
            time.sleep(0.02)
        worker.join()
    finally:
        worker.stop()
