"""Failover on a real Redis Cluster: kill the master holding a queue mid-drain.

Its replica is promoted after the node timeout (2 s here) and workers carry on: Dramatiq
restarts a consumer whose fetch failed, and redis-py's cluster client follows the new
topology. Replication is asynchronous, so writes the dead master acknowledged but had not
sent on are lost: a job admitted or acknowledged in that window comes back (a duplicate run,
within at-least-once), and a job *enqueued* in it would be lost — unless the producer waits
for the replica, as here (``SWITCHYARD_JOBS__ENQUEUE_REPLICAS=1``: Redis ``WAIT`` after each
push). A producer enqueues from the moment of the kill on: while the dead master's shard
has no master, then no replica (the promoted one has none until the killed node is started
again and rejoins as its replica), its enqueues there raise (the caller is told, and may
resend); once a replica is back they are accepted again. Every accepted job must run. The test prints its counts (enqueued, accepted and refused during the failover,
run, duplicates, lost) and asserts none is lost.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from prometheus_client import REGISTRY
from redis.cluster import RedisCluster
from redis.exceptions import RedisError

from queueing.keys import QueueKeys, shard_of
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from tests.conftest import new_org
from tests.integration.redis_cluster import RedisClusterServers, redis_cluster_servers
from tests.integration.workers.run_counter import RunCounter, wait_for

pytestmark = [pytest.mark.slow]
JOBS = 400
AFTER_KILL = 60
"""Jobs the producer must get accepted after the kill (it carries on through the failover)."""


class Producer(threading.Thread):
    """Enqueues a job every 20 ms until stopped, round-robin over ``orgs``: the ids it was
    told were accepted (with when), and how many enqueues raised (Redis unavailable, or not
    confirmed by a replica: the caller is told)."""

    def __init__(self, rt: Runtime, orgs: list[str]) -> None:
        super().__init__(daemon=True)
        self.rt, self.orgs = rt, orgs
        self.accepted: list[tuple[float, str, str]] = []
        self.refused = 0
        self.done = threading.Event()

    def run(self) -> None:
        sent = 0
        while not self.done.is_set():
            try:
                org = self.orgs[sent % len(self.orgs)]
                self.accepted.append((time.monotonic(), org, _enqueue(self.rt, org)))
            except RedisError:
                self.refused += 1
            sent += 1
            time.sleep(0.02)

    def accepted_since(self, moment: float, org: str | None = None) -> int:
        return sum(1 for at, of, _ in self.accepted if at >= moment and org in (None, of))


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
    workers drain and a producer goes on enqueueing; every accepted job runs."""
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
    producer = Producer(rt, orgs)
    worker.start()
    try:
        wait_for(lambda: sum(counter.runs.values()) >= JOBS // 4, 60, "a quarter drained")
        killed_at = time.monotonic()
        producer.start()
        dead = next(n for n in private_cluster.nodes if n.port == master.port)
        dead.kill()
        wait_for(lambda: private_cluster.failed_over(dead), 60, "its replica took over")
        dead.rejoin(str(shutil.which("redis-server")))  # as the new master's replica
        private_cluster.wait_replicated()
        rejoined_at = time.monotonic()
        wait_for(
            lambda: (
                producer.accepted_since(killed_at) >= AFTER_KILL
                and producer.accepted_since(rejoined_at, orgs[0]) > 0  # its master died
            ),
            60,
            "enqueues go on, to the failed-over shard too once it has a replica",
        )
        producer.done.set()
        producer.join()
        ids += [job_id for _, _, job_id in producer.accepted]
        try:
            wait_for(lambda: set(ids) <= set(counter.runs), 120, "every job ran after the failover")
        except AssertionError as exc:
            missing = set(ids) - set(counter.runs)
            raise AssertionError(f"{exc}; {_whereabouts(rt, missing)}") from None
        recovered_s = time.monotonic() - killed_at
    finally:
        producer.done.set()
        worker.stop()
        rt.close()
    lost = len(set(ids) - set(counter.runs))
    duplicates = sum(n - 1 for n in counter.runs.values())
    print(
        f"\nfailover ({shards} lane shard(s)): enqueued={JOBS} before the kill, "
        f"{len(producer.accepted)} accepted and {producer.refused} refused from the kill on; "
        f"ran={len(counter.runs)} duplicates={duplicates} "
        f"reclaimed={_reclaimed() - reclaimed_before:.0f} lost={lost}, "
        f"all ran {recovered_s:.1f} s after the kill"
    )
    assert lost == 0


def test_a_producer_alone_follows_the_failover(
    private_cluster: RedisClusterServers,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    namespace: str,
) -> None:
    """A process that only enqueues (an API, say) with durable enqueue: its pushes go to the
    master's own connection, which redis-py's slot-map refresh never hears of; once the
    replica took over and the killed node rejoined, its enqueues are accepted again (before:
    refused for good, still aimed at the dead master)."""
    rt = _runtime(private_cluster, request, tmp_path, namespace, 1)
    org = new_org(rt)
    _enqueue(rt, org)
    client = rt.redis
    assert isinstance(client, RedisCluster)
    master = client.get_node_from_key(QueueKeys(namespace, "action").tag)
    dead = next(n for n in private_cluster.nodes if n.port == master.port)
    dead.kill()
    wait_for(lambda: private_cluster.failed_over(dead), 60, "its replica took over")
    dead.rejoin(str(shutil.which("redis-server")))
    private_cluster.wait_replicated()
    refused: list[str] = []

    def accepted() -> bool:
        try:
            _enqueue(rt, org)
        except RedisError as exc:
            refused.append(type(exc).__name__)
            return False
        return True

    try:
        wait_for(accepted, 30, "an enqueue accepted after the failover")
    finally:
        rt.close()
    print(f"\nproducer alone: {len(refused)} enqueue(s) refused after the rejoin: {set(refused)}")


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
