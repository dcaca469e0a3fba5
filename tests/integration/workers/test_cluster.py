"""Switchyard on a real Redis Cluster (3 masters, 3 replicas): the client, and a job's way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.cluster import RedisCluster

from queueing.keys import QueueKeys
from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import new_org, runtime_settings
from tests.integration.redis_cluster import RedisClusterServers
from workers.inprocess import run_until_idle
from workers.lanes import NotReplicated
from workers.redis_client import connect


def on_cluster(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str, **jobs: Any
) -> Runtime:
    settings = runtime_settings(
        backend="cluster", tmp_path=tmp_path, namespace=namespace, request=request
    )
    rt = build_runtime(settings.model_copy(update={"jobs": settings.jobs.model_copy(update=jobs)}))
    request.addfinalizer(rt.close)
    return rt


@pytest.fixture
def cluster_runtime(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Runtime:
    return on_cluster(request, tmp_path, namespace)


def noop(org: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "action",
        "org_id": org,
        "provider": "hubspot",
        "payload": {"action": "noop"},
        **extra,
    }


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
    job = noop(new_org(cluster_runtime), idempotency_key="k-1")
    first = cluster_runtime.enqueuer.enqueue(job)
    second = cluster_runtime.enqueuer.enqueue(job)
    assert not first.duplicate and second.duplicate and second.job_id == first.job_id
    assert cluster_runtime.lanes.depth("action").laned == 1
    run_until_idle(cluster_runtime.worker_broker, cluster_runtime.lanes, threads=2, timeout_s=30)
    ns = cluster_runtime.settings.workers.namespace
    assert cluster_runtime.lanes.depth("action").total == 0
    assert cluster_runtime.redis.hlen(QueueKeys(ns, "action").msgs) == 0


def test_a_durable_enqueue_answers_once_a_replica_holds_the_job(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """With enqueue_replicas=1 the push waits for the master's replica and succeeds."""
    rt = on_cluster(request, tmp_path, namespace, enqueue_replicas=1)
    assert not rt.enqueuer.enqueue(noop(new_org(rt))).duplicate
    assert rt.lanes.depth("action").laned == 1


def test_a_durable_enqueue_short_of_replicas_is_an_error_not_a_silent_success(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """Asking for two replicas where the master has one: the producer is told, and the job
    it pushed is still laned (never dropped); a resend with its key is the same job."""
    rt = on_cluster(
        request, tmp_path, namespace, enqueue_replicas=2, enqueue_replica_timeout_ms=100
    )
    job = noop(new_org(rt), idempotency_key="k-2")
    with pytest.raises(NotReplicated, match="1 of 2 replica"):
        rt.enqueuer.enqueue(job)
    assert rt.lanes.depth("action").laned == 1
    assert rt.enqueuer.enqueue(job).duplicate


def test_a_durable_batch_short_of_replicas_is_an_error_and_its_resend_all_duplicates(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """enqueue_many short of replicas raises, its jobs stay laned; the resend answers each
    keyed job as a duplicate of the first send (read from the batch script's reply)."""
    rt = on_cluster(
        request, tmp_path, namespace, enqueue_replicas=2, enqueue_replica_timeout_ms=100
    )
    org = new_org(rt)
    jobs = [noop(org, idempotency_key=f"b-{i}") for i in range(3)]
    with pytest.raises(NotReplicated, match="1 of 2 replica"):
        rt.enqueuer.enqueue_many(jobs)
    assert rt.lanes.depth("action").laned == 3
    resent = rt.enqueuer.enqueue_many(jobs)
    assert all(getattr(r, "duplicate", False) for r in resent)
    assert len({getattr(r, "job_id", None) for r in resent}) == 3


def test_the_api_answers_an_unreplicated_enqueue_with_a_503_to_retry(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """POST /v1/jobs short of replicas is a JSON 503 with Retry-After, never a 500; the
    client's retry with the same idempotency key names the same job."""
    rt = on_cluster(
        request, tmp_path, namespace, enqueue_replicas=2, enqueue_replica_timeout_ms=100
    )
    org = new_org(rt)
    with rt.sessions.begin() as session:
        key = ApiKeyRepository(session).create(org, "ci").key.reveal()
    job = {k: v for k, v in noop(org, idempotency_key="k-3").items() if k != "org_id"}
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        first = client.post("/v1/jobs", json=job, headers=headers)
        again = client.post("/v1/jobs", json=job, headers=headers)
    assert first.status_code == 503 and "retry-after" in first.headers
    assert first.json()["error"]["code"] == "unavailable"
    assert again.status_code == 200 and again.json()["duplicate"] is True
