"""Lanes: fair round-robin admission straight into the queue's ready list, weights, priority,
waiting — on both Redis kinds."""

from __future__ import annotations

import threading
import time

from redis import Redis

from workers.lanes import Admitted, FetchingConsumer, Lanes

Q = "action"


def push(
    lanes: Lanes, org: str, n: int, *, priority: int = 5, weight: int = 1, delay_ms: int = 0
) -> list[str]:
    ids = [f"{org}-{i}" for i in range(n)]
    for job_id in ids:
        lanes.push(
            Q, job_id, job_id.encode(), org=org, priority=priority, weight=weight, delay_ms=delay_ms
        )
    return ids


def consume(lanes: Lanes) -> list[bytes]:
    """Take everything from the queue's ready list, as a worker would (ids → stored data)."""
    keys = lanes.keys(Q)
    ids: list[bytes] = []
    while (item := lanes.redis.lpop(keys.ready)) is not None:
        ids.append(item)
    return [lanes.redis.hget(keys.msgs, i) or b"?" for i in ids]


def admitted_jobs(lanes: Lanes, batch: int) -> list[str]:
    lanes.admit(Q, batch)
    return [data.decode() for data in consume(lanes)]


def test_admission_is_round_robin_across_orgs(any_redis: Redis, namespace: str) -> None:
    """A big backlog in one org does not delay the others: turns alternate org by org."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "big", 100)
    push(lanes, "small", 2)
    push(lanes, "tiny", 1)
    assert admitted_jobs(lanes, 6) == ["big-0", "small-0", "tiny-0", "big-1", "small-1", "big-2"]
    assert lanes.depth(Q).laned == 97 and lanes.depth(Q).orgs == 1


def test_weights_give_more_turns(any_redis: Redis, namespace: str) -> None:
    """An org of weight 2 gets two jobs per turn against one for weight 1."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "heavy", 10, weight=2)
    push(lanes, "light", 10, weight=1)
    order = [job.split("-")[0] for job in admitted_jobs(lanes, 9)]
    assert order == ["heavy", "heavy", "light"] * 3


def test_priority_first_then_fifo_within_an_org(any_redis: Redis, namespace: str) -> None:
    """Within one org, higher priority runs first, and equal priorities keep arrival order."""
    lanes = Lanes(any_redis, namespace)
    for job_id, priority in [("a", 5), ("b", 9), ("c", 5), ("d", 0), ("e", 9)]:
        lanes.push(Q, job_id, job_id.encode(), org="o", priority=priority)
    assert admitted_jobs(lanes, 5) == ["b", "e", "a", "c", "d"]


def test_waiting_jobs_are_admitted_only_when_due(any_redis: Redis, namespace: str) -> None:
    """A delayed job stays in the waiting set until its due time, then joins its lane (the
    admission's clock is passed in: no sleeping on the server's)."""
    lanes = Lanes(any_redis, namespace)
    seconds, micros = any_redis.time()
    before_push = int(seconds) * 1000 + int(micros) // 1000
    push(lanes, "o", 1, delay_ms=60_000)
    assert admitted_jobs(lanes, 10) == []
    assert lanes.admit(Q, 10, now_ms=before_push + 59_000).moved == 0
    assert lanes.depth(Q).waiting == 1
    assert lanes.admit(Q, 10, now_ms=before_push + 65_000).moved == 1
    assert [data.decode() for data in consume(lanes)] == ["o-0"]
    assert lanes.depth(Q).total == 0


def test_a_fetch_answers_four_items_whatever_it_finds(any_redis: Redis, namespace: str) -> None:
    """lanes_fetch.lua's reply has a fixed shape: moved, backlog, ids, bodies."""
    lanes = Lanes(any_redis, namespace)
    consumer = FetchingConsumer(worker_id="w1", now_ms=1)
    assert lanes.admit_and_fetch(Q, consumer, depth=5, fetch=5) == []
    push(lanes, "o", 3)
    got = lanes.admit_and_fetch(Q, consumer, depth=2, fetch=2)
    assert got == [(b"o-0", b"o-0"), (b"o-1", b"o-1")]
    assert lanes.depth(Q).laned == 1


def test_admission_tops_up_to_the_depth_only(any_redis: Redis, namespace: str) -> None:
    """Admission fills the ready list up to the depth asked, keeping the rest laned."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 10)
    assert lanes.admit(Q, 4) == Admitted(moved=4, backlog=6)
    assert lanes.admit(Q, 4) == Admitted(moved=0, backlog=6)  # still four ready
    assert any_redis.llen(lanes.keys(Q).ready) == 4 and lanes.depth(Q).laned == 6


def test_each_push_is_its_own_entry(any_redis: Redis, namespace: str) -> None:
    """The same job pushed twice (a retry racing its admission) is two entries, both kept."""
    lanes = Lanes(any_redis, namespace)
    lanes.push(Q, "e1", b"first", org="o", priority=5)
    lanes.push(Q, "e2", b"retry", org="o", priority=5)
    assert admitted_jobs(lanes, 5) == ["first", "retry"]


def test_oldest_due_age_grows_while_jobs_wait_in_lanes(any_redis: Redis, namespace: str) -> None:
    """The oldest laned job's age grows while it waits and clears once it is admitted."""
    lanes = Lanes(any_redis, namespace)
    assert lanes.depth(Q).oldest_due_age_ms is None
    push(lanes, "o", 1)
    time.sleep(0.2)
    age = lanes.depth(Q).oldest_due_age_ms
    assert age is not None and 200 <= age < 5_000
    admitted_jobs(lanes, 5)
    assert lanes.depth(Q).oldest_due_age_ms is None


def test_concurrent_admitters_never_move_a_job_twice(any_redis: Redis, namespace: str) -> None:
    """Four threads admitting (and consuming) at once move every job exactly once."""
    lanes = Lanes(any_redis, namespace)
    expected = set(push(lanes, "a", 150) + push(lanes, "b", 150))
    taken: list[str] = []
    lock = threading.Lock()

    def admit_until_empty() -> None:
        while True:
            got = admitted_jobs(lanes, 7)
            if not got:
                return
            with lock:
                taken.extend(got)

    threads = [threading.Thread(target=admit_until_empty) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken.extend(admitted_jobs(lanes, 1_000))  # whatever the last race left behind
    assert sorted(taken) == sorted(expected)


def test_every_key_of_a_queue_shares_one_hash_tag(any_redis: Redis, namespace: str) -> None:
    """Every key of the queue, its ready list and bodies included, carries its hash tag."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 3)
    push(lanes, "p", 1, delay_ms=10_000)
    lanes.admit(Q, 1)
    keys = {k.decode() for k in any_redis.scan_iter(f"*{namespace}*")}
    assert {lanes.keys(Q).ready, lanes.keys(Q).msgs} <= keys
    assert all(k.startswith(lanes.prefix(Q)) for k in keys)


def test_depths_of_many_queues_take_one_round_trip(any_redis: Redis, namespace: str) -> None:
    """The exporter reads every queue's lanes in one pipeline, whatever the queue count."""
    lanes = Lanes(any_redis, namespace)
    for i in range(3):
        lanes.push(f"q{i}", f"e{i}", b"{}", org="o", priority=5)
    pipelines: list[int] = []
    original = any_redis.pipeline

    def counted(*args: object, **kwargs: object) -> object:
        pipelines.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    any_redis.pipeline = counted  # type: ignore[method-assign]
    try:
        depths = lanes.depths([f"q{i}" for i in range(50)])
    finally:
        del any_redis.pipeline
    assert len(pipelines) == 1
    assert [depths[f"q{i}"].laned for i in range(4)] == [1, 1, 1, 0]
