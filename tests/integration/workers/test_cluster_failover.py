"""Failover on a real Redis Cluster: kill the master holding a queue mid-drain.

Its replica is promoted after the node timeout (2 s here) and workers carry on: Dramatiq
restarts a consumer whose fetch failed, and redis-py's cluster client follows the new
topology. Replication is asynchronous, so writes the dead master acknowledged but had not
sent on are lost: a job admitted or acknowledged in that window comes back (a duplicate run,
within at-least-once), and a job *enqueued* in it would be lost — unless the producer waits
for the replica, as here (``SWITCHYARD_JOBS__ENQUEUE_REPLICAS=1``: Redis ``WAIT`` after each
push). The test prints its counts (enqueued, run, duplicates, lost) and asserts none is lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from prometheus_client import REGISTRY
from redis.cluster import RedisCluster

from queueing.keys import QueueKeys, shard_of
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from tests.conftest import new_org
from tests.integration.redis_cluster import RedisClusterServers, redis_cluster_servers
from tests.integration.workers.run_counter import RunCounter, wait_for

pytestmark = [pytest.mark.slow]
JOBS = 400


@pytest.fixture
def private_cluster() -> Iterator[RedisClusterServers]:
    try:
        with redis_cluster_servers() as cluster:
            yield cluster
    except FileNotFoundError as exc:
        from tests.conftest import unavailable

        unavailable("Redis Cluster", exc)


@pytest.mark.parametrize("shards", [1, 4])
def test_killing_a_master_mid_drain_loses_no_enqueued_job(
    private_cluster: RedisClusterServers,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    namespace: str,
    shards: int,
) -> None:
    """The master of the queue's tag (with lane shards: of the first org's shard) dies while
    workers drain; every job still runs."""
    rt = _runtime(private_cluster, request, tmp_path, namespace, shards)
    counter = RunCounter()
    rt.worker_broker.add_middleware(counter)
    orgs = [new_org(rt) for _ in range(1 if shards == 1 else 8)]
    ids = [_enqueue(rt, orgs[i % len(orgs)]) for i in range(JOBS)]
    client = rt.redis
    assert isinstance(client, RedisCluster)
    tag = QueueKeys(namespace, "action", shard_of(orgs[0], shards)).tag
    master = client.get_node_from_key(tag)
    reclaimed_before = _reclaimed()
    worker = dramatiq.Worker(rt.worker_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        wait_for(lambda: sum(counter.runs.values()) >= JOBS // 4, 60, "a quarter drained")
        next(n for n in private_cluster.nodes if n.port == master.port).kill()
        killed_at = time.monotonic()
        try:
            wait_for(lambda: set(ids) <= set(counter.runs), 120, "every job ran after the failover")
        except AssertionError as exc:
            missing = set(ids) - set(counter.runs)
            raise AssertionError(f"{exc}; {_whereabouts(rt, missing)}") from None
        recovered_s = time.monotonic() - killed_at
    finally:
        worker.stop()
        rt.close()
    lost = len(set(ids) - set(counter.runs))
    duplicates = sum(n - 1 for n in counter.runs.values())
    print(
        f"\nfailover ({shards} lane shard(s)): enqueued={JOBS} ran={len(counter.runs)} "
        f"duplicates={duplicates} reclaimed={_reclaimed() - reclaimed_before:.0f} "
        f"lost={lost} drained {recovered_s:.1f} s after the kill"
    )
    assert lost == 0


def _runtime(
    cluster: RedisClusterServers,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    ns: str,
    shards: int,
) -> Runtime:
    from storage.crypto import generate_key_item

    settings = load_settings(
        _env_file=None,
        redis_url=cluster.url,
        database_url=request.getfixturevalue("pg_url"),
        data_dir=tmp_path,
        workers={
            "namespace": ns,
            "min_backoff_ms": 10,
            "max_backoff_ms": 40,
            "lane_shards": shards,
        },
        jobs={"enqueue_replicas": 1},  # durable enqueue: each job is on the replica too
        security={"encryption_keys": [generate_key_item("test1")]},
    )
    return build_runtime(settings)


def _enqueue(rt: Runtime, org: str) -> str:
    job = {"kind": "action", "org_id": org, "provider": "hubspot", "payload": {"action": "noop"}}
    return rt.enqueuer.enqueue(job).job_id


def _reclaimed() -> float:
    """Jobs live workers put back after a lost fetch reply (all queues)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "switchyard_fetches_reclaimed"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _whereabouts(rt: Runtime, missing: set[str]) -> str:
    """Where the jobs that never ran sit: their recorded state, and every shard's ready list
    and ack sets (what a failure needs to be told apart: stranded, waiting, or gone)."""
    states = {job_id: rt.job_states.get(job_id) for job_id in sorted(missing)[:5]}
    client = rt.redis
    assert isinstance(client, RedisCluster)
    sizes: dict[str, int] = {}
    for node in client.get_primaries():
        conn = node.redis_connection
        for key in conn.scan_iter(match="*:acks:*", count=1_000):
            sizes[key.decode()] = int(conn.scard(key))
        for key in conn.scan_iter(match="*:ready", count=1_000):
            sizes[key.decode()] = int(conn.llen(key))
    return f"{len(missing)} missing; states of some: {states}; ready and acks: {sizes}"
