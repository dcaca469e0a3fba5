"""Poison pushed into lanes and queue keys while real jobs flow: parked once, never looping."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import dramatiq
import pytest
from sqlalchemy import select

from contract.envelope import Kind
from contract.names import actor_name
from queueing.keys import QueueKeys
from storage.models import DeadJob
from tests.chaos.servers import wait_until
from tests.chaos.stack import Stack, full_size
from workers.lanes import Lanes

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
QUEUE = "action"


def bodies() -> list[tuple[str, bytes]]:
    """(dead job id it will be parked under, body) of each kind of poison; ids are fresh."""

    def message(actor: str, args: tuple[Any, ...], queue: str = QUEUE) -> tuple[str, bytes]:
        poison: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue, actor_name=actor, args=args, kwargs={}, options={}
        )
        return poison.message_id, poison.encode()

    raw = [uuid.uuid4().hex for _ in range(3)]
    return [
        (raw[0], b"\xff\xfe garbage bytes"),
        (raw[1], b'{"queue_name": "action", "args": 7}'),
        (
            raw[2],
            json.dumps({**json.loads(message("run_action", ())[1]), "queue_name": "x"}).encode(),
        ),
        message("run_nothing", ()),
        message(actor_name(Kind.ACTION), (1, 2)),
        message(actor_name(Kind.ACTION), ("not an envelope",)),
    ]


def push(stack: Stack, lanes: Lanes, org: str, entry: str, body: bytes, *, to_lane: bool) -> None:
    """Into an org's lane, or straight into the queue's ready list and body hash."""
    if to_lane:
        lanes.push(QUEUE, entry, body, org=org, priority=5)
        return
    redis, ns = stack.rt.redis, "switchyard"
    redis.hset(QueueKeys(ns, QUEUE).msgs, entry, body)
    redis.rpush(QueueKeys(ns, QUEUE).ready, entry)


def test_poison_is_parked_once_and_real_jobs_all_run(stack: Stack) -> None:
    """Each poison body ends as one dead job; the real jobs around it all run."""
    real_jobs = 3_000 if full_size() else 600
    orgs = stack.orgs(3)
    lanes = Lanes(stack.rt.redis, "switchyard")
    stack.start("scheduler", "scheduler")
    stack.worker("w1")
    stack.worker("w2")
    expected: dict[str, str] = {}  # dead job id -> where it was pushed
    for index in range(real_jobs):
        stack.enqueue(orgs[index % 3], delay_ms=10)
        if index % 50 == 0:  # one at a time, alternating lanes and queue keys
            entry, body = bodies()[(index // 50) % 6]
            to_lane = (index // 50) % 2 == 0
            push(
                stack,
                lanes,
                orgs[index % 3],
                entry,
                body,
                to_lane=to_lane,
            )
            expected[entry] = "lane" if to_lane else "queue"
    for to_lane in (True, False):  # and all at once
        for entry, body in bodies():
            push(stack, lanes, orgs[0], entry, body, to_lane=to_lane)
            expected[entry] = "lane" if to_lane else "queue"
    report = stack.settle("poison", timeout=180, poison=len(expected))

    def parked() -> dict[str, int]:
        with stack.rt.sessions() as session:
            ids = session.scalars(select(DeadJob.job_id)).all()
        return {i: ids.count(i) for i in expected if i in ids}

    wait_until(lambda: len(parked()) == len(expected), 60, "every poison body in dead_jobs")
    time.sleep(3)  # nothing may come back around
    counts = parked()
    report.extra["parked"] = len(counts)
    report.save()
    assert report.lost == []
    assert counts == dict.fromkeys(expected, 1), "poison parked more than once (looping)"
    depth = lanes.depth(QUEUE)
    assert depth.total == 0 and stack.rt.redis.llen(f"switchyard:{QUEUE}") == 0
