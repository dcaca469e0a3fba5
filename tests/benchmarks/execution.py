"""Execution-control benchmarks on real Redis with real worker processes (loopback only).

(b), (d) and (e), the limiter judged by a provider stand-in: see tests/benchmarks/limiter.py.
(c) fairness: one org with a backlog of ``BENCH_BACKLOG`` jobs (100k by default), another
    enqueuing one job per second; its p95 wait against the same on an idle system (<= 2x).
    :mod:`tests.benchmarks.cluster` runs it again on a Redis Cluster with sharded lanes, the
    two orgs in different shards (the consumers' rotation over shards is what is measured).
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from queueing.keys import shard_of
from storage.crypto import generate_key_item
from storage.migrate import upgrade
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from tests.benchmarks.throughput import wait_ready

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEY = generate_key_item("bench")
UNTHROTTLED = {"limit": 1_000_000, "period_seconds": 1, "burst": 1_000_000}
STARTED = re.compile(r"^(\S+ \S+) .* job started id=(\w+)")


def _runtime(
    workdir: Path,
    namespace: str,
    providers: dict[str, object],
    *,
    url: str = REDIS_URL,
    shards: int = 1,
) -> Runtime:
    db = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(db)
    return build_runtime(
        load_settings(
            _env_file=None,
            redis_url=url,
            database_url=db,
            data_dir=workdir,
            workers={"namespace": namespace, "lane_shards": shards},
            security={"encryption_keys": [KEY]},
            providers=providers,
        )
    )


def _env(rt: Runtime, extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    return {
        **base,
        "SWITCHYARD_REDIS_URL": rt.settings.redis_url or REDIS_URL,
        "SWITCHYARD_WORKERS__LANE_SHARDS": str(rt.lanes.shards),
        "SWITCHYARD_DATABASE_URL": rt.settings.resolved_database_url,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": KEY,
        "SWITCHYARD_WORKERS__NAMESPACE": rt.settings.workers.namespace,
        "SWITCHYARD_WORKERS__LOG_JOB_PROGRESS": "true",  # wait times are read off "job started"
        **extra,
    }


@contextmanager
def workers(rt: Runtime, log: Path, processes: int, env: dict[str, str]) -> Iterator[None]:
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        "tests.benchmarks.bench_worker",
        "-p",
        str(processes),
        "-t",
        "8",
        "-Q",
        "action",
        "--skip-logging",
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            command,
            env=_env(rt, env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:  # every process beating (booted and fetching) before any wait is measured
        wait_ready(rt.redis, rt.lanes.keys("action").beats, log, processes)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)


def _org(rt: Runtime, name: str) -> str:
    with rt.sessions.begin() as session:
        return OrganizationRepository(session).create(f"{name}-{uuid.uuid4().hex[:6]}").id


def _waits(
    rt: Runtime, log: Path, org: str, count: int, pace: float, *, under_backlog: bool
) -> list[float]:
    """Waits of ``org``'s jobs; with ``under_backlog``, only of those sent while another
    org's jobs were still laned (a drained backlog would flatter the figure)."""
    job = {"kind": "action", "org_id": org, "provider": "slack", "payload": {"action": "noop"}}
    sent: dict[str, float] = {}
    for _ in range(count):
        behind = rt.lanes.depth("action").laned
        job_id = rt.enqueuer.enqueue(job).job_id
        if behind or not under_backlog:
            sent[job_id] = time.time()
        time.sleep(pace)
    time.sleep(3)
    waits = []
    for line in log.read_text(errors="replace").splitlines():
        match = STARTED.match(line)
        if match and match.group(2) in sent:
            started = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            waits.append(started - sent[match.group(2)])
    return waits


def _orgs(rt: Runtime) -> tuple[str, str]:
    """The backlogged org and the small one; with sharded lanes, in different shards."""
    big = _org(rt, "big")
    while True:
        small = _org(rt, "small")
        if rt.lanes.shards == 1 or rt.lanes.shard_of(small) != rt.lanes.shard_of(big):
            return big, small


def _fill(rt: Runtime, job: dict[str, object], count: int) -> None:
    """``count`` copies of ``job``, enqueued in batches (the backlog's fill is not timed)."""
    for start in range(0, count, 1_000):
        rt.enqueuer.enqueue_many([job] * min(1_000, count - start))


def fairness(
    backlog: int, samples: int, *, url: str = REDIS_URL, shards: int = 1, title: str = ""
) -> float:
    """Print the small org's p95 wait, idle vs behind the backlog; returns their ratio."""
    providers = {"slack": {"rate_limit": UNTHROTTLED}}
    env = {
        f"SWITCHYARD_PROVIDERS__SLACK__RATE_LIMIT__{k.upper()}": str(v)
        for k, v in UNTHROTTLED.items()
    }
    results = {}
    for label, size in (("idle", 0), ("backlog", backlog)):
        with tempfile.TemporaryDirectory() as tmp:
            ns = "bf" + uuid.uuid4().hex[:6]
            rt = _runtime(Path(tmp), ns, providers, url=url, shards=shards)
            big, small = _orgs(rt)
            big_job = {
                "kind": "action",
                "org_id": big,
                "provider": "slack",
                "payload": {"action": "noop"},
            }
            _fill(rt, big_job, size)
            log = Path(tmp) / "w.log"
            with workers(rt, log, 2, {**env, "BENCH_ENDPOINT": "http://127.0.0.1:9/"}):
                time.sleep(2)
                waits = _waits(rt, log, small, samples, 1.0, under_backlog=size > 0)
            left = rt.lanes.depth("action").laned
            rt.close()
        results[label] = sorted(waits)
        if label == "backlog":
            print(
                f"    backlog still queued at the end: {left} of {size}; "
                f"{len(waits)} of {samples} samples sent while it was queued"
            )
            if shards > 1:
                placed = f"shard {shard_of(big, shards)} vs {shard_of(small, shards)}"
                print(f"    {shards} lane shards; backlogged org vs small org: {placed}")
    p95 = {k: v[int(0.95 * (len(v) - 1))] for k, v in results.items() if v}
    ratio = p95["backlog"] / max(p95["idle"], 1e-3)
    print(f"(c) fairness{title}, {backlog} jobs of another org queued, 1 job/s for {samples} s:")
    print(
        f"    small org p95 wait: idle {p95['idle'] * 1000:.0f} ms, with backlog "
        f"{p95['backlog'] * 1000:.0f} ms, ratio {ratio:.2f} (target <= 2); "
        f"median {statistics.median(results['backlog']) * 1000:.0f} ms"
    )
    return ratio


def main() -> None:
    fairness(
        int(os.environ.get("BENCH_BACKLOG", "100000")),
        int(os.environ.get("BENCH_FAIR_SAMPLES", "30")),
    )
