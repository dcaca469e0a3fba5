"""No-op throughput on one Redis vs a 3-master Redis Cluster, and Redis CPU per 1,000 jobs.

Both servers are private to the benchmark (loopback, no persistence), so nothing else on
the machine runs on them: a single ``redis-server``, then a 3-master / 3-replica cluster.
On each, Switchyard enqueues N no-op jobs and fresh worker processes drain them (the
``throughput`` benchmark's measure). Redis CPU is the ``used_cpu_user + used_cpu_sys`` of
every Redis process of the run (replicas included: replication is part of the cost), read
before the enqueue and after the drain.

All jobs are in one queue, so on the cluster one master carries the queue's keys (its tag)
while the others see the limiter and job-state keys: this measures the cost of the cluster
client and replication, not yet a queue spread over masters.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from tests.benchmarks.throughput import Run, _switchyard_run
from tests.integration.private_servers import private_redis
from tests.integration.redis_cluster import redis_cluster_servers
from workers.redis_client import connect


def redis_cpu_seconds(ports: list[int]) -> float:
    """CPU seconds used so far by the Redis servers on ``ports``."""
    total = 0.0
    for port in ports:
        with Redis(host="127.0.0.1", port=port) as client:
            info = client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return total


def _run(url: str, ports: list[int], jobs: int, p: int, t: int) -> tuple[Run, float]:
    """One Switchyard run on ``url``: its rates and Redis CPU seconds per 1,000 jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    client = connect(url, connect_timeout=2, socket_timeout=30)
    before = redis_cpu_seconds(ports)
    with tempfile.TemporaryDirectory() as tmp:
        ns = "clbench" + uuid.uuid4().hex[:6]
        run = _switchyard_run(client, url, ns, env, jobs, p, t, Path(tmp))
    cpu = redis_cpu_seconds(ports) - before
    client.close()
    return run, cpu * 1000 / jobs


def _on_single(action: Callable[[str, list[int]], tuple[Run, float]]) -> tuple[Run, float]:
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as server:
        return action(server.url, [server.port])


def _on_cluster(action: Callable[[str, list[int]], tuple[Run, float]]) -> tuple[Run, float]:
    with redis_cluster_servers() as cluster:
        return action(cluster.url, [node.port for node in cluster.nodes])


def main(jobs: int = 3000, processes: int = 2, threads: int = 8) -> None:
    """Print single vs cluster: worker and producer rates, Redis CPU s per 1,000 jobs."""
    try:
        single = _on_single(lambda url, ports: _run(url, ports, jobs, processes, threads))
        cluster = _on_cluster(lambda url, ports: _run(url, ports, jobs, processes, threads))
    except FileNotFoundError as exc:
        print(f"cluster benchmark skipped: {exc}")
        return
    print(f"Redis Cluster vs one Redis, no-op jobs, {jobs} jobs, -p {processes} -t {threads}")
    for name, (run, cpu) in (("one Redis", single), ("3-master cluster", cluster)):
        print(
            f"  {name:17}: workers {run.work_rate:6.0f} jobs/s, producer {run.produce_rate:6.0f}"
            f" jobs/s, Redis CPU {cpu:.3f} s / 1,000 jobs"
        )
    print(
        f"  cluster / single: workers {cluster[0].work_rate / single[0].work_rate:.2f}, "
        f"Redis CPU {cluster[1] / single[1]:.2f}"
    )


if __name__ == "__main__":
    main(jobs=int(os.environ.get("BENCH_JOBS", "3000")))
