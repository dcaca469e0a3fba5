"""With durable enqueue on, a retry, deferral or parked delivery waits for the replicas.

A worker reschedules a job (a new lane entry) or parks an ordered endpoint's delivery, and
then acknowledges the fetched message. An acknowledgement that reaches a promoted replica
which never got the entry loses the job, so the write must be on the replicas first (Redis
``WAIT``), on a real Redis and a real Cluster.
"""

from __future__ import annotations

import pytest
from dramatiq.broker import MessageProxy
from prometheus_client import REGISTRY
from redis import Redis

from tests.integration.redis_cluster import RedisClusterServers
from tests.lane_messages import job_message
from workers.lanes import Durability, Lanes
from workers.redis_client import connect
from workers.scheduling import marked_outcome, reschedule
from workers.webhooks.parking import ParkedDeliveries


def fetched_job(org: str) -> MessageProxy:
    return MessageProxy(job_message(org))


def unreplicated(queue: str = "action") -> float:
    value = REGISTRY.get_sample_value("switchyard_reschedules_unreplicated_total", {"queue": queue})
    return value or 0.0


def test_a_retry_no_replica_confirms_is_laned_counted_and_not_duplicated(
    real_redis: Redis, namespace: str
) -> None:
    """A lone Redis has no replica to confirm: the retry is laned once (no hand-back copy),
    its outcome stands, and the metric operators alert on counts it."""
    lanes = Lanes(real_redis, namespace, Durability(replicas=1, timeout_ms=50))
    message, before = fetched_job("org-1"), unreplicated()
    reschedule(lanes, message, 0, "retried")
    assert marked_outcome(message) == "retried"
    assert lanes.depth("action").laned == 1
    assert unreplicated() - before == 1


def test_without_durable_enqueue_a_retry_does_not_wait(real_redis: Redis, namespace: str) -> None:
    """replicas=0 (the default): no WAIT, nothing counted."""
    lanes = Lanes(real_redis, namespace, Durability(replicas=0))
    message, before = fetched_job("org-1"), unreplicated()
    reschedule(lanes, message, 0, "deferred")
    assert lanes.depth("action").laned == 1
    assert unreplicated() == before


@pytest.mark.parametrize("shards", [1, 4])
def test_on_a_cluster_the_replica_confirms_each_shards_retry(
    redis_cluster: RedisClusterServers, namespace: str, shards: int
) -> None:
    """Each master has a replica: retries of orgs in every shard are confirmed, none counted."""
    client = connect(redis_cluster.url, connect_timeout=1, socket_timeout=5)
    lanes = Lanes(client, namespace, Durability(replicas=1, timeout_ms=2_000), shards=shards)
    before = unreplicated()
    for i in range(8):
        reschedule(lanes, fetched_job(f"org-{i}"), 0, "retried")
    assert lanes.depth("action").laned == 8
    assert unreplicated() == before
    client.close()


def test_a_parked_delivery_no_replica_confirms_is_parked_and_counted(
    real_redis: Redis, namespace: str
) -> None:
    """Parking an ordered endpoint's delivery waits for a replica too; unconfirmed on a lone
    Redis, it is still parked (a waker finds it) and counted under the deliver queue."""
    parking = ParkedDeliveries(real_redis, namespace, Durability(replicas=1, timeout_ms=50))
    before = unreplicated("deliver")
    parking.park("ep-1", "d-1", "job-1")
    assert parking.take("ep-1", "d-1", "owner") == "job-1"
    assert unreplicated("deliver") - before == 1


def test_on_a_cluster_the_replica_confirms_a_parked_delivery(
    redis_cluster: RedisClusterServers, namespace: str
) -> None:
    """The endpoint's master has a replica: the park is confirmed, nothing counted."""
    client = connect(redis_cluster.url, connect_timeout=1, socket_timeout=5)
    parking = ParkedDeliveries(client, namespace, Durability(replicas=1, timeout_ms=2_000))
    before = unreplicated("deliver")
    parking.park("ep-1", "d-1", "job-1")
    assert parking.count("ep-1") == 1
    assert unreplicated("deliver") == before
    client.close()
