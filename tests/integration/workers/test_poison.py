"""Poison in lanes and queues: parked in the dead-letter queue, never looping, never taking
real jobs down with it. On both backends."""

from __future__ import annotations

import json
import uuid
from typing import Any

import dramatiq
import pytest

from contract.envelope import Kind
from contract.names import actor_name
from queueing.keys import QueueKeys
from switchyard.runtime import Runtime
from tests.integration.workers.test_admission import consuming
from tests.integration.workers.test_pipeline import dead_jobs, drain, noop_job
from workers.dead_set import UNDECODABLE, import_dead_sets
from workers.middleware.dead_letter import dead_set_keys

GARBAGE = [
    b"\xff\xfenot json",
    b'{"queue_name": "action"}',
    json.dumps(
        {
            "queue_name": "elsewhere",
            "actor_name": "run_action",
            "args": [],
            "kwargs": {},
            "options": {},
            "message_id": "x",
            "message_timestamp": 0,
        }
    ).encode(),
]

pytestmark = pytest.mark.also_on_cluster  # real Redis Cluster as a third backend


def push_raw_to_lane(runtime: Runtime, data: bytes, org: str) -> str:
    entry = uuid.uuid4().hex
    runtime.lanes.push("action", entry, data, org=org, priority=5)
    return entry


def push_raw_to_queue(runtime: Runtime, data: bytes) -> str:
    ns, entry = runtime.settings.workers.namespace, uuid.uuid4().hex
    runtime.redis.hset(QueueKeys(ns, "action").msgs, entry, data)
    runtime.redis.rpush(QueueKeys(ns, "action").ready, entry)
    return entry


def test_garbage_in_a_fetch_is_parked_and_its_batch_mates_are_delivered(
    runtime: Runtime, org_id: str
) -> None:
    """Bodies that are not messages go to the dead set; every real job of the fetch arrives."""
    ids = {runtime.enqueuer.enqueue(noop_job(org_id)).job_id for _ in range(3)}
    poison = [push_raw_to_lane(runtime, body, org_id) for body in GARBAGE]
    poison.append(push_raw_to_queue(runtime, b"garbage in the queue key"))
    with consuming(runtime, prefetch=10) as consumer:
        got = [next(consumer) for _ in range(4)]
    assert {m.args[0]["id"] for m in got if m is not None} == ids
    assert got[-1] is None  # the garbage after them is parked, not delivered
    zset, _ = dead_set_keys(runtime.settings.workers.namespace, "action")
    assert {raw.decode() for raw in runtime.redis.zrange(zset, 0, -1)} == set(poison)


def test_parked_garbage_becomes_an_undecodable_dead_job_with_its_bytes(
    runtime: Runtime, org_id: str
) -> None:
    """The dead-set import turns each parked body into a dead job that keeps it raw."""
    entries = {push_raw_to_lane(runtime, body, org_id) for body in GARBAGE}
    with consuming(runtime, prefetch=10) as consumer:
        assert next(consumer) is None
    ns = runtime.settings.workers.namespace
    assert import_dead_sets(runtime.redis, ns, ["action"], runtime.sessions) == {"action": 3}
    dead = [
        d
        for d in dead_jobs(runtime, org_id="unknown", error_class=UNDECODABLE)
        if d.job_id in entries
    ]
    assert {d.job_id for d in dead} == entries
    assert all("undecodable_body_base64" in d.envelope for d in dead)


def message_with(args: tuple[Any, ...], actor: str = actor_name(Kind.ACTION)) -> Any:
    return dramatiq.Message(queue_name="action", actor_name=actor, args=args, kwargs={}, options={})


@pytest.mark.parametrize(
    ("args", "actor", "error_class"),
    [
        ((), "run_nothing", "unknown_actor"),
        ((1, 2), actor_name(Kind.ACTION), "unexpected"),
        (("not an envelope",), actor_name(Kind.ACTION), "invalid_job"),
    ],
)
def test_messages_no_actor_can_run_are_dead_lettered_once(
    runtime: Runtime, org_id: str, args: tuple[Any, ...], actor: str, error_class: str
) -> None:
    """Unknown actors and non-envelope arguments reach the DLQ at once; real jobs all run."""
    real = {runtime.enqueuer.enqueue(noop_job(org_id)).job_id for _ in range(5)}
    poison = message_with(args, actor)
    runtime.worker_broker.enqueue(poison)
    drain(runtime)
    [dead] = [d for d in dead_jobs(runtime, org_id="unknown") if d.job_id == poison.message_id]
    assert dead.error_class == error_class
    assert dead.attempts == 1
    assert not {d.job_id for d in dead_jobs(runtime, org_id=org_id)} & real
