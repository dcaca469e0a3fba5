"""Scripts answer in one shape whatever branch they take, and run on a clock passed in."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import fakeredis
import pytest
from redis import Redis

from queueing import scripts
from queueing.keys import QueueKeys, rate_key_tag, webhook_gate
from workers.webhooks.gates import EndpointGates

NOW = 1_790_000_000_000
DAY_MS = 86_400_000


@pytest.fixture
def redis() -> Redis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def acquire(redis: Redis, *, slot: int = 0, quota: int = 0, now: int = NOW, **kw: Any) -> Any:
    """limiter_acquire.lua on "5 per second" (window-guarded), with ``now`` passed in."""
    args = {"limit": 5, "period": 1000, "burst": 1, "margin": 50, "max_reserve": 900_000}
    args |= kw
    argv = [args["limit"], args["period"], args["burst"], args["margin"], quota, "j", slot]
    argv += [args["max_reserve"], 2000, 1, 30_000, 900_000, now]
    return scripts.register(redis, "limiter_acquire.lua")(keys=[rate_key_tag("t", "k")], args=argv)


def test_limiter_acquire_answers_six_items_on_every_branch(redis: Redis) -> None:
    """Granted, reserved, waiting for a slot, over the reserve horizon, daily quota spent."""
    granted = acquire(redis)
    reserved = acquire(redis)
    early = acquire(redis, slot=reserved[2])
    beyond = acquire(redis, max_reserve=0)
    answers = [granted, reserved, early, beyond]
    assert [len(a) for a in answers] == [6, 6, 6, 6]
    assert granted[:4] == [1, 0, 0, 1] and granted[4] == b"j:%d" % NOW and granted[5] == 0
    assert reserved == [0, 210, NOW + 210, 0, b"", 0]
    assert early == [0, 210, NOW + 210, 0, b"", 0]
    assert beyond[0] == 0 and beyond[3:] == [0, b"", 0]


def test_limiter_acquire_names_a_spent_daily_quota_in_the_same_shape(redis: Redis) -> None:
    """The sixth item says the daily allocation is spent; the delay runs to midnight UTC."""
    assert acquire(redis, quota=1, burst=10)[0] == 1
    spent = acquire(redis, quota=1, burst=10)
    assert spent == [0, DAY_MS - NOW % DAY_MS, 0, 0, b"", 1]


def test_the_clock_passed_in_moves_the_scripts_time(redis: Redis) -> None:
    """A slot reserved at NOW is due once the clock passed in reaches it: no sleeping."""
    acquire(redis)
    reserved = acquire(redis)
    assert acquire(redis, slot=reserved[2], now=NOW + 209)[0] == 0
    assert acquire(redis, slot=reserved[2], now=NOW + 210)[0] == 1


def test_without_a_clock_the_scripts_read_the_servers(redis: Redis) -> None:
    """now = 0 (production) reads TIME: a grant's log entry carries the server's ms."""
    seconds, micros = redis.time()
    granted = acquire(redis, now=0)
    stamped_at = int(granted[4].split(b":")[1])
    assert granted[0] == 1 and stamped_at >= seconds * 1000 + micros // 1000


def test_recover_acks_answers_two_items_alive_or_lapsed(redis: Redis) -> None:
    """{0, 0} for a worker that beat after the cutoff (or is unknown), {1, n} once lapsed."""
    keys = QueueKeys("t", "action")
    recover = scripts.register(redis, "recover_acks.lua")
    redis.zadd(keys.beats, {"w1": 5_000})
    redis.sadd(keys.acks("w1"), "m1", "m2")
    redis.hset(keys.msgs, mapping={"m1": b"{}", "m2": b"{}"})
    script_keys = [keys.beats, keys.acks("w1"), keys.ready, keys.msgs]
    assert recover(keys=script_keys, args=["w1", 4_000]) == [0, 0]
    assert recover(keys=script_keys, args=["nobody", 9_000]) == [0, 0]
    assert recover(keys=script_keys, args=["w1", 5_000]) == [1, 2]
    assert sorted(redis.lrange(keys.ready, 0, -1)) == [b"m1", b"m2"]


def test_leases_renew_extends_to_the_clock_passed_in(redis: Redis) -> None:
    """Held leases move to now + lease; released ones (absent) are not brought back."""
    leases = rate_key_tag("t", "k") + ":leases"
    redis.zadd(leases, {"a": NOW})
    renewed = scripts.register(redis, "leases_renew.lua")(
        keys=[leases], args=[60_000, NOW, "a", "gone"]
    )
    assert renewed == 2
    assert redis.zrange(leases, 0, -1, withscores=True) == [(b"a", NOW + 60_000)]


def test_webhook_gate_slots_lapse_on_the_clock_passed_in(redis: Redis) -> None:
    """A slot leased at NOW for 60 s blocks the next job until NOW + 60 s, not a moment later."""
    gates = EndpointGates(redis, "t", clock=lambda: clock[0])
    clock = [NOW]
    assert gates.acquire("e1", "killed", limit=1, lease_ms=60_000)
    assert not gates.acquire("e1", "next", limit=1, lease_ms=60_000)
    clock[0] = NOW + 59_999
    assert not gates.acquire("e1", "next", limit=1, lease_ms=60_000)
    clock[0] = NOW + 60_000
    assert gates.acquire("e1", "next", limit=1, lease_ms=60_000)


def test_webhook_gate_without_a_clock_leases_on_the_servers(redis: Redis) -> None:
    """Production passes no clock: the lease runs from the server's time."""
    seconds, _ = redis.time()
    assert EndpointGates(redis, "t").acquire("e1", "j", limit=1, lease_ms=60_000)
    ((_, expiry),) = redis.zrange(webhook_gate("t", "slots", "e1"), 0, -1, withscores=True)
    assert seconds * 1000 + 60_000 <= expiry <= (seconds + 2) * 1000 + 60_000


CLOCKED = sorted(
    f
    for f in files("queueing").joinpath("lua").iterdir()
    if f.name.endswith(".lua") and "redis.call('TIME')" in f.read_text()
)


def test_the_clocked_scripts_are_found() -> None:
    """The check below has scripts to check (the limiter's, lease renewal, webhook gates)."""
    names = {f.name for f in CLOCKED}
    assert names >= {"limiter_acquire.lua", "webhook_gate_acquire.lua", "lanes_push.lua"}


@pytest.mark.parametrize("script", CLOCKED, ids=lambda f: f.name)
def test_a_script_reading_the_server_clock_takes_a_clock_instead(script: Any) -> None:
    """Reading TIME only when no ``now`` came in, and saying so in the ARGV header."""
    source = script.read_text()
    header = "\n".join(line for line in source.splitlines() if line.startswith("--"))
    assert "now (ms" in header
    assert "if now <= 0 then" in source.split("redis.call('TIME')")[0]


PUSH_STATE = [86_400, "j1", "action", "slack", "action", "noop", ""]


def test_a_push_times_its_job_on_the_clock_passed_in(redis: Redis) -> None:
    """lanes_push.lua with ``now``: the lane's due time, the state's times and index use it."""
    p = "{t:q:action}"
    argv = ["e1", b"{}", "o1", 5, 0, 1, "", "", 0, "", *PUSH_STATE, NOW]
    assert scripts.register(redis, "lanes_push.lua")(keys=[p], args=argv) == [1, b""]
    assert redis.zscore(f"{p}:due", "e1") == NOW
    assert redis.hmget(f"{p}:job:j1", "enqueued_at", "updated_at") == [str(NOW).encode()] * 2
    assert redis.zscore(f"{p}:jobs:o1", "j1") == NOW


def test_a_batch_push_times_its_jobs_on_the_clock_passed_in(redis: Redis) -> None:
    """lanes_push_many.lua with ``now`` last: a delayed job waits until now + its delay."""
    p = "{t:q:action}"
    heads = [
        ["e1", "o1", 5, 0, 1, "", "", 0, PUSH_STATE],
        ["e2", "o1", 5, 60_000, 1, "", "", 0, None],
    ]
    argv = [json.dumps(heads), b"{}", b"{}", NOW]
    assert scripts.register(redis, "lanes_push_many.lua")(keys=[p], args=argv) == [b"10"]
    assert redis.zscore(f"{p}:due", "e1") == NOW
    assert redis.zscore(f"{p}:waiting", "e2") == NOW + 60_000
    assert redis.hget(f"{p}:job:j1", "enqueued_at") == str(NOW).encode()
