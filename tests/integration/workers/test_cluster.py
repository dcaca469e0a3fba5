"""Switchyard on a real Redis Cluster (3 masters, 3 replicas): the client, and a job's way."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from switchyard.app import Runtime, build_runtime
from tests.conftest import new_org, runtime_settings
from tests.integration.redis_cluster import RedisClusterServers
from workers.inprocess import run_until_idle
from workers.keys import QueueKeys
from workers.redis_client import connect


@pytest.fixture
def cluster_runtime(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Runtime:
    rt = build_runtime(
        runtime_settings(backend="cluster", tmp_path=tmp_path, namespace=namespace, request=request)
    )
    request.addfinalizer(rt.close)
    return rt


def test_a_cluster_url_connects_to_every_master(redis_cluster: RedisClusterServers) -> None:
    """redis+cluster:// with some nodes gives a RedisCluster that knows all three masters."""
    client = connect(redis_cluster.url, connect_timeout=1, socket_timeout=5)
    assert isinstance(client, RedisCluster)
    assert len(client.get_primaries()) == 3
    client.close()


def test_queues_spread_over_masters_by_their_tag(redis_cluster: RedisClusterServers) -> None:
    """Each queue's keys sit in one slot; different queues land on different masters."""
    client = connect(redis_cluster.url, connect_timeout=1, socket_timeout=5)
    assert isinstance(client, RedisCluster)
    queues = ["action", "sync", "deliver", "refresh", "inbound"]
    nodes = {client.get_node_from_key(QueueKeys("sy", q).tag).name for q in queues}
    client.close()
    assert len(nodes) >= 2


def test_an_enqueued_job_runs_once_and_its_duplicate_is_refused(cluster_runtime: Runtime) -> None:
    """Enqueue with an idempotency key, enqueue again, drain: one job ran, nothing is left."""
    job = {
        "kind": "action",
        "org_id": new_org(cluster_runtime),
        "provider": "hubspot",
        "payload": {"action": "noop"},
        "idempotency_key": "k-1",
    }
    first = cluster_runtime.enqueuer.enqueue(job)
    second = cluster_runtime.enqueuer.enqueue(job)
    assert not first.duplicate and second.duplicate and second.job_id == first.job_id
    assert cluster_runtime.lanes.depth("action").laned == 1
    run_until_idle(cluster_runtime.worker_broker, cluster_runtime.lanes, threads=2, timeout_s=30)
    ns = cluster_runtime.settings.workers.namespace
    assert cluster_runtime.lanes.depth("action").total == 0
    assert cluster_runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 0
