"""Producer rate: Switchyard's ``enqueue_many`` and ``enqueue`` vs raw Dramatiq's ``send``.

One producer thread, the same Redis, the same job shape (a no-op action). Raw Dramatiq
sends one message per call (one round trip each); Switchyard validates every job, checks
it against the worker's declarations and lanes it with its initial job state (written by
the push script itself): one script call per job for ``enqueue``, one per 1,000 jobs for
``enqueue_many``. Rounds alternate raw / single / batch; the headline is the median of the
per-round ratios (targets: batch >= 3.0 x raw ``send``, single >= 1.0), with the ratio of
each side's best round beside it (on a shared, busy machine the least disturbed runs).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

from producers.enqueue import MAX_BATCH
from switchyard.runtime import Runtime
from tests.benchmarks.execution import REDIS_URL, _org, _runtime

JOBS = int(os.environ.get("BENCH_ENQUEUE_JOBS", "5000"))
ROUNDS = int(os.environ.get("BENCH_ENQUEUE_ROUNDS", "5"))


def _rate(jobs: int, send: Callable[[], None]) -> float:
    started = time.perf_counter()
    send()
    return jobs / (time.perf_counter() - started)


def _raw(broker: RedisBroker, jobs: int) -> float:
    def noop(job: dict[str, Any]) -> None:
        """The baseline actor (never run here: only sent)."""

    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        noop, broker=broker, queue_name="action", actor_name=f"raw_{uuid.uuid4().hex[:6]}"
    )
    job = {"id": "0" * 32, "kind": "action", "org_id": "bench", "provider": "slack"}
    job["payload"] = {"action": "noop"}
    return _rate(jobs, lambda: [actor.send(job) for _ in range(jobs)] and None)


def _single(rt: Runtime, job: dict[str, Any], jobs: int) -> float:
    return _rate(jobs, lambda: [rt.enqueuer.enqueue(job) for _ in range(jobs)] and None)


def _batch(rt: Runtime, job: dict[str, Any], jobs: int) -> float:
    def send() -> None:
        for start in range(0, jobs, MAX_BATCH):
            results = rt.enqueuer.enqueue_many([job] * min(MAX_BATCH, jobs - start))
            assert all(not isinstance(r, Exception) for r in results)

    return _rate(jobs, send)


def _clean(redis: Redis, namespace: str) -> None:
    for pattern in (f"{namespace}:*", "{" + namespace + ":*"):
        keys = list(redis.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            redis.delete(*keys[start : start + 1000])


def main(jobs: int = JOBS, rounds: int = ROUNDS) -> None:
    print(f"\nenqueue: one producer, {jobs} no-op jobs per run, {rounds} rounds, {REDIS_URL}")
    print("  load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    sy_ns, raw_ns = "enqbench" + uuid.uuid4().hex[:6], "enqraw" + uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        rt = _runtime(Path(tmp), sy_ns, {})
        raw_broker = RedisBroker(url=REDIS_URL, namespace=raw_ns)
        job = {"kind": "action", "org_id": _org(rt, "bench"), "provider": "slack"}
        job["payload"] = {"action": "noop"}
        try:
            runs = [
                (_raw(raw_broker, jobs), _single(rt, job, jobs), _batch(rt, job, jobs))
                for _ in range(rounds)
            ]
        finally:
            _clean(rt.redis, sy_ns)
            _clean(rt.redis, raw_ns)
            raw_broker.close()
            rt.close()
    for index, (raw, single, batch) in enumerate(runs, 1):
        print(
            f"  round {index}: raw send {raw:7.0f} / enqueue {single:7.0f} / "
            f"enqueue_many {batch:7.0f} jobs/s"
        )
    batch_ratio = statistics.median(b / r for r, _, b in runs)
    single_ratio = statistics.median(s / r for r, s, _ in runs)
    best_raw = max(r for r, _, _ in runs)
    best_single, best_batch = max(s for _, s, _ in runs), max(b for _, _, b in runs)
    print(
        f"  ratio vs raw send (median): enqueue_many {batch_ratio:.2f}, enqueue {single_ratio:.2f}"
        f"; best vs best: enqueue_many {best_batch / best_raw:.2f}, "
        f"enqueue {best_single / best_raw:.2f}"
    )
    print("  load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("  targets: enqueue_many >= 3.0, enqueue >= 1.0")


if __name__ == "__main__":
    main()
