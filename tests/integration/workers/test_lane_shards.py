"""Lane shards on a real Redis and on a real Redis Cluster (four shards): jobs spread over
shards (and masters), all run, and cancel and recovery work in every shard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dramatiq.common import current_millis
from redis.cluster import RedisCluster

from queueing.keys import queue_shards, shard_of
from switchyard.runtime import Runtime, build_runtime
from switchyard.services.jobs import cancel_job
from tests.conftest import new_org, runtime_settings
from tests.integration.workers.test_pipeline import dead_jobs
from workers.dead_set import UNDECODABLE, import_dead_sets
from workers.inprocess import run_until_idle
from workers.recovery import AckRecovery, recovery_bound_ms

SHARDS = 4


def spread_namespace(redis: Any) -> str:
    """A namespace whose four ``action`` shards do not all hash to one master (on a cluster;
    slot placement is otherwise the cluster's, and 1 in 27 namespaces would fail that)."""
    while True:
        name = "t" + uuid.uuid4().hex[:10]
        if not isinstance(redis, RedisCluster):
            return name
        tags = [keys.tag for keys in queue_shards(name, "action", SHARDS)]
        if len({redis.get_node_from_key(tag).name for tag in tags}) >= 2:
            return name


@pytest.fixture(params=["servers", "cluster"])
def sharded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with four lane shards, on real Redis + PostgreSQL, then on the cluster."""
    probe = build_runtime(
        runtime_settings(
            backend=request.param, tmp_path=tmp_path, namespace="probe", request=request
        )
    )
    namespace = spread_namespace(probe.redis)
    probe.close()
    settings = runtime_settings(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        lane_shards=SHARDS,
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()


def orgs_of_every_shard(rt: Runtime) -> dict[int, str]:
    """One fresh org per shard (organizations are created until each shard has one)."""
    found: dict[int, str] = {}
    while len(found) < SHARDS:
        org = new_org(rt)
        found.setdefault(shard_of(org, SHARDS), org)
    return found


def noop(org: str) -> dict[str, Any]:
    return {"kind": "action", "org_id": org, "provider": "hubspot", "payload": {"action": "noop"}}


def test_jobs_of_orgs_in_every_shard_land_in_their_shard_and_all_run(sharded: Runtime) -> None:
    """Each shard's lane holds its orgs' jobs (on a cluster: on the master owning the shard's
    slot, more than one master in all); a worker drains every shard."""
    orgs = orgs_of_every_shard(sharded)
    ids = [sharded.enqueuer.enqueue(noop(org)).job_id for org in orgs.values() for _ in range(3)]
    shards = queue_shards(sharded.settings.workers.namespace, "action", SHARDS)
    redis = sharded.redis
    assert [redis.zcard(keys.lane("due")) for keys in shards] == [3] * SHARDS
    if isinstance(redis, RedisCluster):
        masters = set()
        for keys in shards:
            node = redis.get_node_from_key(keys.tag)
            slot = redis.keyslot(keys.lane("due"))
            assert redis.execute_command("CLUSTER KEYSLOT", keys.tag) == slot
            assert node.redis_connection.zcard(keys.lane("due")) == 3  # on that very master
            masters.add(node.name)
        assert len(masters) >= 2
    run_until_idle(sharded.worker_broker, sharded.lanes, threads=4, timeout_s=60)
    assert sharded.lanes.depth("action").total == 0
    assert sum(redis.hlen(keys.msgs) for keys in shards) == 0
    states = [sharded.job_states.get(job_id) for job_id in ids]
    assert [state and state["state"] for state in states] == ["succeeded"] * len(ids)


def test_a_job_is_cancelled_in_its_own_shard(sharded: Runtime) -> None:
    """Cancelling a laned job of an org in shard k > 0 takes it out of that shard's lane."""
    orgs = orgs_of_every_shard(sharded)
    kept = sharded.enqueuer.enqueue(noop(orgs[0])).job_id
    doomed = sharded.enqueuer.enqueue(noop(orgs[3])).job_id
    view = cancel_job(sharded.job_states, sharded.lanes, doomed, orgs[3])
    assert view.state == "cancelled"
    shards = queue_shards(sharded.settings.workers.namespace, "action", SHARDS)
    assert [sharded.redis.zcard(keys.lane("due")) for keys in shards] == [1, 0, 0, 0]
    run_until_idle(sharded.worker_broker, sharded.lanes, threads=2, timeout_s=60)
    assert (sharded.job_states.get(kept) or {}).get("state") == "succeeded"
    assert (sharded.job_states.get(doomed) or {}).get("state") == "cancelled"


def test_a_killed_workers_jobs_in_every_shard_are_recovered(sharded: Runtime) -> None:
    """A consumer fetches jobs of all four shards and 'dies': one sweep past the recovery
    bound puts each back in its own shard's ready list."""
    for org in orgs_of_every_shard(sharded).values():
        sharded.enqueuer.enqueue(noop(org))
    broker = sharded.worker_broker
    consumer = broker.consume("action", prefetch=SHARDS, timeout=10)
    taken = [next(consumer) for _ in range(SHARDS)]
    consumer.message_cache = []  # a killed process hands nothing back
    assert sorted(m.options.get("lane_shard", 0) for m in taken if m) == [0, 1, 2, 3]
    w = sharded.settings.workers
    shards = queue_shards(w.namespace, "action", SHARDS)
    assert [sharded.redis.scard(keys.acks(broker.broker_id)) for keys in shards] == [1] * SHARDS
    recovery = AckRecovery(
        sharded.redis, w.namespace, ["action"], w.heartbeat_timeout_ms, shards=SHARDS
    )
    later = current_millis() + recovery_bound_ms(w.heartbeat_timeout_ms)
    assert recovery.sweep(later) == {"action": SHARDS}
    for keys, message in zip(shards, sorted(taken, key=_shard), strict=True):
        assert message is not None
        assert sharded.redis.lrange(keys.ready, 0, -1) == [
            message.options["redis_message_id"].encode()
        ]
    assert recovery.sweep(later) == {}


def test_garbage_fetched_from_a_shard_is_parked_there_and_imported(sharded: Runtime) -> None:
    """A body that is no message, laned in shard 2, lands in shard 2's dead set and the
    dead-set import (visiting every shard) turns it into an undecodable dead job."""
    org = orgs_of_every_shard(sharded)[2]
    entry = uuid.uuid4().hex
    sharded.lanes.push("action", entry, b"\xffnot a message", org=org, priority=5)
    consumer = sharded.worker_broker.consume("action", prefetch=4, timeout=10)
    assert next(consumer) is None
    consumer.close()
    w = sharded.settings.workers
    shards = queue_shards(w.namespace, "action", SHARDS)
    parked = [sharded.redis.zrange(keys.dead_set[0], 0, -1) for keys in shards]
    assert parked == [[], [], [entry.encode()], []]
    imported = import_dead_sets(
        sharded.redis, w.namespace, ["action"], sharded.sessions, shards=SHARDS
    )
    assert imported == {"action": 1}
    assert sharded.redis.zcard(shards[2].dead_set[0]) == 0
    dead = dead_jobs(sharded, org_id="unknown", error_class=UNDECODABLE)
    assert entry in {d.job_id for d in dead}


def _shard(message: Any) -> int:
    return int(message.options.get("lane_shard", 0))
