"""Lane shards: orgs hashed to shards, each shard under its own tag, consumers visiting all."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from queueing.keys import QueueKeys, queue_shards, shard_of
from switchyard.observability.exporter import read_queue_state
from tests.lane_messages import job_message
from workers.lane_backlog import BacklogReader
from workers.lane_broker import LaneFedBroker
from workers.lanes import Lanes
from workers.recovery import stamp_beats, stranded_jobs

SHARDS = 4


def org_in(shard: int, shards: int = SHARDS, skip: int = 0) -> str:
    """An org id that :func:`shard_of` places in ``shard`` (the ``skip``-th such one)."""
    found = (f"org-{i}" for i in range(10_000) if shard_of(f"org-{i}", shards) == shard)
    for _ in range(skip):
        next(found)
    return next(found)


@pytest.fixture
def broker() -> Iterator[LaneFedBroker]:
    """A consumer-side broker over fakeredis with four lane shards, no middleware."""
    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    lanes = Lanes(redis, "sh", shards=SHARDS)
    made = LaneFedBroker(lanes=lanes, client=redis, namespace="sh", middleware=[])
    made.declare_queue("action")
    yield made
    made.close()


def test_shard_of_is_a_stable_hash_not_pythons_salted_one() -> None:
    """CRC-32 of the org id: the same answer in every process and version (pinned values)."""
    assert [shard_of(org, 4) for org in ("acme", "globex", "initech")] == [2, 2, 0]
    assert shard_of("acme", 7) == 96778814 % 7
    assert shard_of("anything", 1) == 0


def test_shard_of_spreads_orgs_evenly() -> None:
    """10,000 org ids fall within 10 % of an even split over 8 shards."""
    counts = Counter(shard_of(str(uuid.UUID(int=i)), 8) for i in range(10_000))
    assert sorted(counts) == list(range(8))
    assert all(1125 <= n <= 1375 for n in counts.values()), counts


def test_shard_of_refuses_fewer_than_one_shard() -> None:
    """Zero shards is a configuration error, named as such."""
    with pytest.raises(ValueError, match="lane shards must be at least 1"):
        shard_of("acme", 0)
    with pytest.raises(ValueError, match="lane shards must be at least 1"):
        Lanes(fakeredis.FakeRedis(), "sh", shards=0)


def test_shard_zero_keeps_the_single_shard_tag_and_others_get_their_own() -> None:
    """Shard 0 is today's ``{ns:q:queue}`` (no migration); shard k is ``{ns:q:queue:sk}``."""
    assert QueueKeys("sy", "action").tag == "{sy:q:action}"
    assert [k.tag for k in queue_shards("sy", "action", 3)] == [
        "{sy:q:action}",
        "{sy:q:action:s1}",
        "{sy:q:action:s2}",
    ]
    assert QueueKeys("sy", "action", 2).acks("w1") == "{sy:q:action:s2}:acks:w1"


def test_an_orgs_jobs_go_to_its_shards_lane(broker: LaneFedBroker) -> None:
    """A push lands in shard_of(org)'s keys only; depth sums every shard."""
    lanes = broker.lanes
    for shard in range(SHARDS):
        lanes.push_message(job_message(org_in(shard)), org=org_in(shard), priority=5)
    lanes.push_message(job_message(org_in(3)), org=org_in(3), priority=5)
    due = [lanes.redis.zcard(keys.lane("due")) for keys in lanes.all_keys("action")]
    assert due == [1, 1, 1, 2]
    assert lanes.depth("action").laned == 5 and lanes.depth("action").orgs == 4


def test_a_backlog_in_one_shard_does_not_starve_another(broker: LaneFedBroker) -> None:
    """A 500-job backlog in shard 1 fills whole fetches, yet shard 2's lone job is fetched
    within one rotation of fetches (every shard is visited first once per ``shards``)."""
    big, small = org_in(1), org_in(2)
    for _ in range(500):
        broker.lanes.push_message(job_message(big), org=big, priority=5)
    broker.lanes.push_message(job_message(small), org=small, priority=5)
    fetched_from: list[set[int]] = []
    for _ in range(SHARDS):
        got = broker.do_fetch("action", 10)
        assert len(got) == 10  # the backlog keeps every fetch full
        fetched_from.append({shard for _, _, shard in got})
    assert any(2 in shards for shards in fetched_from)
    assert broker.lanes.depth("action").laned == 500 + 1 - 10 * SHARDS


def test_an_idle_fetch_looks_at_every_shard(broker: LaneFedBroker) -> None:
    """One job in each shard: a single fetch with room for all takes all four."""
    for shard in range(SHARDS):
        broker.lanes.push_message(job_message(org_in(shard)), org=org_in(shard), priority=5)
    got = broker.do_fetch("action", 10)
    assert sorted(shard for _, _, shard in got) == [0, 1, 2, 3]


def test_acks_and_requeues_go_to_the_shard_the_message_came_from(broker: LaneFedBroker) -> None:
    """A consumer's ack of a shard-3 job empties shard 3's ack set on its next fetch there; a
    requeued one returns to shard 3's ready list."""
    org = org_in(3)
    for _ in range(2):
        broker.lanes.push_message(job_message(org), org=org, priority=5)
    consumer = broker.consume("action", prefetch=2, timeout=10)
    first, second = next(consumer), next(consumer)
    assert first is not None and second is not None
    assert first.options["lane_shard"] == 3
    keys = QueueKeys("sh", "action", 3)
    assert broker.client.scard(keys.acks(broker.broker_id)) == 2
    consumer.ack(first)
    broker.flush_acks()
    assert broker.client.scard(keys.acks(broker.broker_id)) == 1
    assert broker.client.hlen(keys.msgs) == 1
    consumer.requeue([second])
    assert broker.client.lrange(keys.ready, 0, -1) == [second.options["redis_message_id"].encode()]
    assert broker.client.exists(QueueKeys("sh", "action").msgs) == 0
    consumer.close()


def test_a_worker_beats_in_every_shard_and_recovery_reads_them_all(
    broker: LaneFedBroker,
) -> None:
    """stamp_beats writes the worker into each shard's beats; stranded_jobs sums the shards."""
    redis = broker.client
    stamp_beats(redis, "sh", ["action"], "w1", shards=SHARDS)
    shards = queue_shards("sh", "action", SHARDS)
    assert [redis.zscore(keys.beats, "w1") is not None for keys in shards] == [True] * SHARDS
    for keys in shards[1:]:
        redis.zadd(keys.beats, {"dead": 0})
        redis.sadd(keys.acks("dead"), "a", "b")
    assert stranded_jobs(redis, "sh", ["action"], 15_000, 10**13, shards=SHARDS) == {"action": 6}


def test_queue_state_and_backlog_sum_every_shard(broker: LaneFedBroker) -> None:
    """The exporter's queue counters and the per-org backlog see jobs of every shard."""
    lanes = broker.lanes
    for shard in range(SHARDS):
        lanes.push_message(job_message(org_in(shard)), org=org_in(shard), priority=5)
        lanes.push_message(
            job_message(org_in(shard)), org=org_in(shard), priority=5, delay_ms=60_000
        )
    assert len(broker.do_fetch("action", 2)) == 2  # two admitted and in flight
    state = read_queue_state(lanes.redis, "sh", ["action"], SHARDS)["action"]
    assert state.messages == 2 and state.waiting == 0
    backlog, complete = BacklogReader(lanes).backlog("action", None)
    assert complete and set(backlog) == {org_in(shard) for shard in range(SHARDS)}
    assert sum(b.laned + b.admitted for b in backlog.values()) == SHARDS
    assert sum(b.waiting for b in backlog.values()) == SHARDS
    one, _ = BacklogReader(lanes).backlog("action", org_in(3))
    assert list(one) == [org_in(3)] and one[org_in(3)].waiting == 1


def test_a_failing_shard_does_not_cost_the_jobs_other_shards_handed_over(
    broker: LaneFedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shard 2's master failing mid-fetch: shard 0's jobs, already in our ack set, are still
    delivered; a fetch that got nothing raises the error (Dramatiq backs off)."""
    for shard in (0, 2):
        broker.lanes.push_message(job_message(org_in(shard)), org=org_in(shard), priority=5)
    real = broker.lanes.admit_and_fetch

    def flaky(queue: str, consumer: Any, **options: Any) -> Any:
        if options["shard"] == 2:
            raise RedisConnectionError("master down")
        return real(queue, consumer, **options)

    monkeypatch.setattr(broker.lanes, "admit_and_fetch", flaky)
    got = broker.do_fetch("action", 10)
    assert [shard for _, _, shard in got] == [0]
    with pytest.raises(RedisConnectionError):
        broker.do_fetch("action", 10)
