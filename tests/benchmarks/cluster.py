"""No-op throughput on one Redis vs a 3-master Redis Cluster, and Redis CPU per 1,000 jobs.

Both servers are private to the benchmark (loopback, no persistence), so nothing else on
the machine runs on them: a single ``redis-server``, then a 3-master / 3-replica cluster.
On each, Switchyard enqueues N no-op jobs and fresh worker processes drain them (the
``throughput`` benchmark's measure). Redis CPU is the ``used_cpu_user + used_cpu_sys`` of
every Redis process of the run (replicas included: replication is part of the cost), read
before the enqueue and after the drain.

All jobs are in one queue, spread over ``BENCH_CLUSTER_ORGS`` organizations (16). With one
lane shard, the one master holding the queue's tag carries all its lane keys while the
others see the limiter and job-state keys: that run measures the cost of the cluster client
and replication. With ``BENCH_CLUSTER_SHARDS`` lane shards (6: two per master on average)
the orgs are hashed to shards, each under its own tag, so the queue spreads over the
masters. Last, the fairness benchmark (:func:`tests.benchmarks.execution.fairness`) runs on
the cluster with sharded lanes, its two orgs in different shards (target: ratio <= 2).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from redis import Redis
from redis.cluster import RedisCluster

from queueing.keys import queue_shards
from tests.benchmarks.execution import fairness
from tests.benchmarks.throughput import Run, _switchyard_run
from tests.integration.private_servers import private_redis
from tests.integration.redis_cluster import redis_cluster_servers
from workers.redis_client import connect

ORGS = int(os.environ.get("BENCH_CLUSTER_ORGS", "16"))
SHARDS = int(os.environ.get("BENCH_CLUSTER_SHARDS", "6"))


def redis_cpu_seconds(ports: list[int]) -> float:
    """CPU seconds used so far by the Redis servers on ``ports``."""
    total = 0.0
    for port in ports:
        with Redis(host="127.0.0.1", port=port) as client:
            info = client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return total


def _run(
    url: str, ports: list[int], jobs: int, p: int, t: int, shards: int = 1
) -> tuple[Run, float]:
    """One Switchyard run on ``url``: its rates and Redis CPU seconds per 1,000 jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    client = connect(url, connect_timeout=2, socket_timeout=30)
    before = redis_cpu_seconds(ports)
    with tempfile.TemporaryDirectory() as tmp:
        ns = "clbench" + uuid.uuid4().hex[:6]
        if shards > 1 and isinstance(client, RedisCluster):
            tags = [keys.tag for keys in queue_shards(ns, "action", shards)]
            masters = {client.get_node_from_key(tag).name for tag in tags}
            print(f"  {shards} lane shards of the queue on {len(masters)} master(s)")
        run = _switchyard_run(client, url, ns, env, jobs, p, t, Path(tmp), shards=shards, orgs=ORGS)
    cpu = redis_cpu_seconds(ports) - before
    client.close()
    return run, cpu * 1000 / jobs


def _on_single(action: Callable[[str, list[int]], tuple[Run, float]]) -> tuple[Run, float]:
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as server:
        return action(server.url, [server.port])


def main(jobs: int = 3000, processes: int = 2, threads: int = 8) -> None:
    """Print one Redis vs the cluster vs the cluster with sharded lanes (worker and producer
    rates, Redis CPU s per 1,000 jobs); then the fairness benchmark on the sharded cluster."""
    runs: dict[str, tuple[Run, float]] = {}
    try:
        runs["one Redis"] = _on_single(
            lambda url, ports: _run(url, ports, jobs, processes, threads)
        )
        with redis_cluster_servers() as cluster:
            url, ports = cluster.url, [node.port for node in cluster.nodes]
            runs["3-master cluster"] = _run(url, ports, jobs, processes, threads)
            runs[f"cluster, {SHARDS} shards"] = _run(url, ports, jobs, processes, threads, SHARDS)
            _print_runs(runs, jobs, processes, threads)
            _cluster_fairness(url)
    except FileNotFoundError as exc:
        print(f"cluster benchmark skipped: {exc}")


def _print_runs(runs: dict[str, tuple[Run, float]], jobs: int, p: int, t: int) -> None:
    print(f"Redis Cluster vs one Redis, no-op jobs, {jobs} jobs of {ORGS} orgs, -p {p} -t {t}")
    for name, (run, cpu) in runs.items():
        print(
            f"  {name:20}: workers {run.work_rate:6.0f} jobs/s, producer "
            f"{run.produce_rate:6.0f} jobs/s, Redis CPU {cpu:.3f} s / 1,000 jobs"
        )
    single = runs["one Redis"]
    for name, (run, cpu) in list(runs.items())[1:]:
        print(
            f"  {name} / one Redis: workers {run.work_rate / single[0].work_rate:.2f}, "
            f"Redis CPU {cpu / single[1]:.2f}"
        )


def _cluster_fairness(url: str) -> None:
    """The fairness benchmark on the cluster, lanes sharded, the two orgs in two shards."""
    fairness(
        int(os.environ.get("BENCH_BACKLOG", "100000")),
        int(os.environ.get("BENCH_FAIR_SAMPLES", "30")),
        url=url,
        shards=SHARDS,
        title=f" on the 3-master cluster, {SHARDS} lane shards",
    )


if __name__ == "__main__":
    main(jobs=int(os.environ.get("BENCH_JOBS", "3000")))
