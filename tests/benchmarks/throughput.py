"""No-op job throughput: Switchyard (all middleware) vs raw Dramatiq, same Redis, same -p/-t.

For each system, N jobs are first enqueued through its own producer (timed: producer rate),
then fresh worker processes start and the clock runs from the moment every process has
registered its heartbeat until the queue's message hash is empty (worker rate; for
Switchyard, until its lanes are empty too and the last acknowledgement is sent). Both rates
are printed with the ratio Switchyard / raw, per round (raw then Switchyard, alternating)
and as the median over rounds; the worker ratio is the headline figure (target >= 0.9).
Switchyard runs with its defaults: every middleware on, the limiter consulted for each job,
job state tracking on (each job's queued / running / succeeded written; the line "state
tracking" counts the jobs whose final state was recorded).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from queueing.keys import QueueKeys, queue_shards
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings

SETTLE_SECONDS = 0.2
"""After the timed drain, before stopping the workers: job states are written in batches
every 20 ms, and the stop signal reaches every process of the group (a second one ends a
Dramatiq process at once), so the last batch is given time to land."""
# The limiter still runs for every job (all middleware on); it just never says "wait".
UNTHROTTLED = {"limit": 1_000_000, "period_seconds": 1, "burst": 1_000_000}


@dataclass
class Run:
    name: str
    jobs: int
    enqueue_seconds: float
    drain_seconds: float
    tracked: dict[str, int] | None = None
    """Jobs per recorded state afterwards (Switchyard's job state tracking)."""

    @property
    def produce_rate(self) -> float:
        return self.jobs / self.enqueue_seconds

    @property
    def work_rate(self) -> float:
        return self.jobs / self.drain_seconds


def wait_ready(
    redis: Redis, heartbeats_key: str, log: Path, brokers: int, timeout: float = 60
) -> None:
    """Every worker process has registered its broker heartbeat (it is fetching).

    ``brokers`` counts the worker processes, plus the producer's broker where the producer
    enqueues through one (raw Dramatiq; Switchyard's producer writes lanes instead).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis.zcard(heartbeats_key) >= brokers:
            return
        time.sleep(0.05)
    raise RuntimeError(f"workers not ready:\n{log.read_text(errors='replace')[-2000:]}")


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    brokers: int,
    redis: Redis,
    heartbeats_key: str,
    enqueue: Callable[[], None],
    jobs: int,
    workdir: Path,
    backlog: Callable[[], int],
) -> Run:
    """Enqueue ``jobs`` (timed: producer rate), then start workers and time the drain."""
    started = time.perf_counter()
    for _ in range(jobs):
        enqueue()
    enqueue_seconds = time.perf_counter() - started
    assert backlog() == jobs
    log = workdir / f"{name}.log"
    with log.open("wb") as handle:
        worker = subprocess.Popen(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_ready(redis, heartbeats_key, log, brokers)
        ready = time.perf_counter()
        while backlog():
            time.sleep(0.005)
        drain_seconds = time.perf_counter() - ready
        time.sleep(SETTLE_SECONDS)  # untimed: the last batched job-state writes land
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    return Run(name, jobs, enqueue_seconds, drain_seconds)


def main(jobs: int = 5000, processes: int = 2, threads: int = 8, rounds: int = 3) -> None:
    """``rounds`` alternating pairs (raw, then Switchyard); the headline is the median of the
    per-round ratios, so a burst of load elsewhere on the machine skews one round, not the
    figure."""
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    redis = Redis.from_url(redis_url)
    try:
        redis.ping()
    except Exception as exc:
        print(f"benchmark needs a real Redis at {redis_url}: {exc}")
        return
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    raw_ns = "rawbench" + uuid.uuid4().hex[:6]
    sy_ns = "sybench" + uuid.uuid4().hex[:6]
    pairs: list[tuple[Run, Run]] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            raw = _raw_run(redis, redis_url, raw_ns, base_env, jobs, processes, threads, workdir)
            sy = _switchyard_run(
                redis, redis_url, sy_ns, base_env, jobs, processes, threads, workdir
            )
            pairs.append((raw, sy))
            for ns in (raw_ns, sy_ns):  # tagged keys too: a round's beats fake the next's start
                for pattern in (f"{ns}:*", f"{{{ns}:*"):
                    for key in redis.scan_iter(pattern):
                        redis.delete(key)
    print(
        f"no-op throughput, {jobs} jobs, -p {processes} -t {threads}, {rounds} rounds, "
        f"Redis {redis_url}"
    )
    for index, (raw, sy) in enumerate(pairs, 1):
        print(
            f"  round {index}: workers raw {raw.work_rate:6.0f} / switchyard {sy.work_rate:6.0f} "
            f"jobs/s ({sy.work_rate / raw.work_rate:.2f}); producer raw {raw.produce_rate:6.0f} "
            f"/ switchyard {sy.produce_rate:6.0f} jobs/s ({sy.produce_rate / raw.produce_rate:.2f})"
        )
    workers = statistics.median(sy.work_rate / raw.work_rate for raw, sy in pairs)
    producer = statistics.median(sy.produce_rate / raw.produce_rate for raw, sy in pairs)
    print(f"  ratio switchyard/raw (median): workers {workers:.2f}, producer {producer:.2f}")
    tracked = [sy.tracked for _, sy in pairs]
    print(f"  state tracking on: recorded final states per round {tracked} ({jobs} jobs each)")
    print("  target: workers >= 1.0 with state tracking on")


def _raw_run(
    redis: Redis, url: str, ns: str, env: dict[str, str], jobs: int, p: int, t: int, workdir: Path
) -> Run:
    os.environ["BENCH_REDIS_URL"], os.environ["BENCH_NAMESPACE"] = url, ns
    from tests.benchmarks import raw_app

    job = {
        "id": "0" * 32,
        "kind": "action",
        "org_id": "bench",
        "provider": "slack",
        "payload": {"action": "noop"},
    }
    return measure(
        "dramatiq",
        [
            sys.executable,
            "-m",
            "dramatiq",
            "tests.benchmarks.raw_app",
            "-p",
            str(p),
            "-t",
            str(t),
            "-Q",
            "action",
        ],
        {**env, "BENCH_REDIS_URL": url, "BENCH_NAMESPACE": ns},
        p + 1,  # the benchmark process enqueues through its own broker
        redis,
        f"{ns}:__heartbeats__",  # raw Dramatiq's own liveness set
        lambda: raw_app.raw_noop.send(job),
        jobs,
        workdir,
        lambda: int(redis.hlen(f"{ns}:action.msgs")),
    )


def _switchyard_run(
    redis: Redis,
    url: str,
    ns: str,
    env: dict[str, str],
    jobs: int,
    p: int,
    t: int,
    workdir: Path,
    *,
    shards: int = 1,
    orgs: int = 1,
) -> Run:
    """One Switchyard run; with ``shards`` > 1 the queue's lanes are sharded and the jobs
    are spread round-robin over ``orgs`` organizations (one org lives in one shard)."""
    db = f"sqlite:///{workdir / 'bench.db'}"
    key = "k1:" + "A" * 43 + "="
    settings = load_settings(
        _env_file=None,
        redis_url=url,
        database_url=db,
        data_dir=workdir,
        workers={"namespace": ns, "lane_shards": shards},
        security={"encryption_keys": [key]},
        providers={"slack": {"rate_limit": UNTHROTTLED}},
    )
    from storage.migrate import upgrade

    upgrade(db)
    runtime = build_runtime(settings)
    with runtime.sessions.begin() as session:
        org_ids = [OrganizationRepository(session).create(f"bench{i}").id for i in range(orgs)]
    noop = {"kind": "action", "provider": "slack", "payload": {"action": "noop"}}
    sent = iter(range(jobs))
    sy_env = {
        **env,
        "SWITCHYARD_REDIS_URL": url,
        "SWITCHYARD_DATABASE_URL": db,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": key,
        "SWITCHYARD_WORKERS__NAMESPACE": ns,
        "SWITCHYARD_WORKERS__LANE_SHARDS": str(shards),
        "SWITCHYARD_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        **{
            f"SWITCHYARD_PROVIDERS__SLACK__RATE_LIMIT__{k.upper()}": str(v)
            for k, v in UNTHROTTLED.items()
        },
    }
    command = [
        sys.executable,
        "-c",
        "from switchyard.cli import main; main()",
        "worker",
        "-p",
        str(p),
        "-t",
        str(t),
        "-Q",
        "action",
    ]
    try:
        run = measure(
            "switchyard",
            command,
            sy_env,
            p,
            redis,
            QueueKeys(ns, "action").beats,
            lambda: runtime.enqueuer.enqueue({**noop, "org_id": org_ids[next(sent) % orgs]}),
            jobs,
            workdir,
            lambda: (
                runtime.lanes.depth("action").total
                + sum(int(redis.hlen(keys.msgs)) for keys in queue_shards(ns, "action", shards))
            ),
        )
        run.tracked = dict(
            sum((Counter(_succeeded_states(runtime, org_id)) for org_id in org_ids), Counter())
        )
        return run
    finally:
        runtime.close()


def _succeeded_states(runtime: Runtime, org_id: str) -> dict[str, int]:
    """The org's jobs per recorded state (read after the run): all succeeded, when every
    transition was written."""
    states = runtime.job_states
    listed = states.recent_ids(org_id, before_ms=None, count=1_000_000)
    found = states.get_many(org_id, listed)
    return dict(Counter(raw["state"] if raw else "missing" for raw in found))
