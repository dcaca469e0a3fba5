"""Lanes: fair round-robin admission, weights, priority, waiting, leases — on both Redis kinds."""

from __future__ import annotations

import threading
import time

from redis import Redis

from workers.lanes import Lanes

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


def admitted_jobs(lanes: Lanes, batch: int, **kw: int) -> list[str]:
    entries = lanes.admit(Q, batch, **kw)
    lanes.confirm(Q, [entry for entry, _ in entries])
    return [data.decode() for _, data in entries]


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
    """A delayed job stays in the waiting set until its due time, then joins its lane."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 1, delay_ms=300)
    assert admitted_jobs(lanes, 10) == []
    assert lanes.depth(Q).waiting == 1
    time.sleep(0.35)
    assert admitted_jobs(lanes, 10) == ["o-0"]
    assert lanes.depth(Q).total == 0


def test_unconfirmed_admission_returns_after_its_lease(any_redis: Redis, namespace: str) -> None:
    """A pump that dies before confirming loses nothing: the job is admitted again later."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 1)
    [(entry, _)] = lanes.admit(Q, 10, lease_ms=200)
    assert lanes.admit(Q, 10, lease_ms=200) == []
    time.sleep(0.25)
    [(again, data)] = lanes.admit(Q, 10)
    assert again == entry and data == b"o-0"


def test_late_confirm_does_not_erase_a_repushed_job(any_redis: Redis, namespace: str) -> None:
    """A job re-pushed (retry) before its previous admission is confirmed survives the confirm."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 1)
    [(entry, _)] = lanes.admit(Q, 1)
    lanes.push(Q, "o-0", b"retry", org="o", priority=5)  # the worker already retried it
    lanes.confirm(Q, [entry])  # the pump's late confirm of the first admission
    assert [data for _, data in lanes.admit(Q, 1)] == [b"retry"]


def test_concurrent_admitters_never_move_a_job_twice(any_redis: Redis, namespace: str) -> None:
    """Four threads admitting at once take every job exactly once."""
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
    assert sorted(taken) == sorted(expected)


def test_every_key_of_a_queue_shares_one_hash_tag(any_redis: Redis, namespace: str) -> None:
    """All keys the lane scripts touch carry the queue's hash tag (Redis Cluster ready)."""
    lanes = Lanes(any_redis, namespace)
    push(lanes, "o", 3)
    push(lanes, "p", 1, delay_ms=10_000)
    lanes.admit(Q, 1)
    keys = [k.decode() for k in any_redis.scan_iter(f"*{namespace}*")]
    assert keys and all(k.startswith(lanes.prefix(Q)) for k in keys)
