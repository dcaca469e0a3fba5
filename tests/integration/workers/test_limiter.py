"""The limiter: GCRA with reservations, windows, cooldowns, quotas and concurrency leases."""

from __future__ import annotations

import itertools

import pytest
from redis import Redis

from providers.ratelimit_feedback import RateLimitFeedback
from providers.spec import RateLimitPolicy
from tests.integration.workers.conftest import Clock
from workers.learned_limits import LEARNED_TTL_MS
from workers.limiter import (
    LOCAL_PERMIT_TTL_MS,
    Limiter,
    LocalPermits,
    local_batch,
    rate_key,
    window_ms,
)


def policy(**kw: object) -> RateLimitPolicy:
    return RateLimitPolicy.model_validate(
        {"limit": 5, "period_seconds": 1, "key": "p:{connection}", **kw}
    )


def test_slots_are_reserved_one_interval_apart(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """With no burst, the first job runs and each next one reserves the slot one interval
    ((period + margin) / limit = 210 ms) later."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    first = limiter.acquire("k", policy(), job_id="j0")
    later = [limiter.acquire("k", policy(), job_id=f"j{i}") for i in range(1, 4)]
    assert first.run
    assert all(not d.run and d.reserved for d in later)
    assert [d.delay_ms for d in later] == [210, 420, 630]
    assert [b.slot_ms - a.slot_ms for a, b in itertools.pairwise(later)] == [210, 210]


def test_a_reserved_job_runs_at_its_slot_without_taking_another(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """Coming back at its slot, a job runs without consuming a second slot."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    limiter.acquire("k", policy(), job_id="j0")
    reserved = limiter.acquire("k", policy(), job_id="j1")
    clock.advance(reserved.delay_ms)
    assert limiter.acquire("k", policy(), job_id="j1", slot_ms=reserved.slot_ms).run
    nxt = limiter.acquire("k", policy(), job_id="j2")
    assert not nxt.run and nxt.slot_ms - reserved.slot_ms == 210


def test_burst_lets_that_many_run_at_once(any_redis: Redis, namespace: str) -> None:
    """A bucket of 3 runs three jobs immediately, then spaces them."""
    limiter = Limiter(any_redis, namespace)
    runs = [limiter.acquire("k", policy(burst=3), job_id=f"j{i}").run for i in range(4)]
    assert runs == [True, True, True, False]


def test_window_never_holds_more_than_the_limit(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """Late reserved jobs lose their slot instead of bunching past the per-period limit."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    tight = policy(limit=3, period_seconds=0.3)
    decisions = [limiter.acquire("k", tight, job_id=f"j{i}") for i in range(4)]
    clock.advance(500)  # everyone comes back late, at once
    ran = [
        limiter.acquire("k", tight, job_id=f"j{i}", slot_ms=d.slot_ms).run
        for i, d in enumerate(decisions[1:], 1)
    ]
    assert sum(ran) <= 3


def test_cooldown_pauses_the_key_for_everyone(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """After a 429 cool-down, a new job reserves a slot after the pause; other keys run."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    limiter.cool_down("k", 400)
    fresh = limiter.acquire("k", policy(), job_id="a")
    assert not fresh.run and fresh.reserved and fresh.delay_ms == 400
    assert limiter.acquire("other", policy(), job_id="c").run


def test_jobs_waiting_through_a_pause_resume_paced_and_in_order(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """A pause moves every reservation with it: the waiting jobs resume one interval apart
    after it, in their order, instead of all at once when it ends."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    assert limiter.acquire("k", policy(), job_id="j0").run
    reserved = [limiter.acquire("k", policy(), job_id=f"j{i}") for i in range(1, 5)]
    limiter.cool_down("k", 1_000)
    back = [
        limiter.acquire("k", policy(), job_id=f"j{i}", slot_ms=d.slot_ms)
        for i, d in enumerate(reserved, 1)
    ]
    assert not any(d.run for d in back)
    assert back[0].delay_ms >= 1_000
    gaps = [b.delay_ms - a.delay_ms for a, b in itertools.pairwise(back)]
    assert gaps == [210, 210, 210]
    assert [d.slot_ms for d in back] == [d.slot_ms for d in reserved]


def test_pacing_leaves_room_in_the_window_guard(any_redis: Redis, namespace: str) -> None:
    """Slot n + limit is a whole guarded window after slot n, so a job arriving on time at
    its slot is never refused by the guard (and never loses its place)."""
    limiter = Limiter(any_redis, namespace)
    decisions = [limiter.acquire("k", policy(), job_id=f"j{i}") for i in range(12)]
    slots = [decisions[1].slot_ms - 210] + [d.slot_ms for d in decisions[1:]]
    assert all(b - a >= window_ms(policy()) for a, b in zip(slots, slots[5:], strict=False))


def test_a_reserved_job_refused_by_the_guard_keeps_its_slot(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """When the window is full at its slot (the limit was lowered meanwhile), a reserved job
    is told to wait and keeps its slot: it stays first in line."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    assert limiter.acquire("k", policy(), job_id="j0").run
    reserved = limiter.acquire("k", policy(), job_id="j1")
    limiter.apply_feedback("k", RateLimitFeedback(limit=1, interval=1.0), policy())
    clock.advance(reserved.delay_ms)
    again = limiter.acquire("k", policy(), job_id="j1", slot_ms=reserved.slot_ms)
    assert not again.run and again.slot_ms == reserved.slot_ms and again.delay_ms > 500


def test_feedback_retry_after_and_spent_budget_cool_down(any_redis: Redis, namespace: str) -> None:
    """Retry-After, or remaining=0 with a reset, turn into a cooldown of that length."""
    limiter = Limiter(any_redis, namespace)
    p = policy()
    assert limiter.apply_feedback("a", RateLimitFeedback(retry_after=2.0), p).pause_ms == 2000
    spent = RateLimitFeedback(remaining=0, reset_after=1.5)
    assert limiter.apply_feedback("b", spent, p).pause_ms == 1500
    left = RateLimitFeedback(remaining=3, reset_after=1.5)
    assert limiter.apply_feedback("c", left, p).pause_ms == 0
    assert not limiter.acquire("a", policy(), job_id="x").run
    assert limiter.acquire("c", policy(), job_id="x").run


def test_daily_quota_defers_to_the_next_day(any_redis: Redis, namespace: str, clock: Clock) -> None:
    """Once today's quota is spent, jobs wait until the quota resets at midnight UTC."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    daily = policy(limit=100, burst=10, daily_quota=2)
    assert [limiter.acquire("k", daily, job_id=f"j{i}").run for i in range(2)] == [True, True]
    third = limiter.acquire("k", daily, job_id="j2")
    assert not third.run and third.quota
    assert third.delay_ms == 86_400_000 - clock.ms % 86_400_000


def test_concurrency_cap_holds_until_release(any_redis: Redis, namespace: str) -> None:
    """With a cap of 2, a third job waits until one of the two releases its lease."""
    limiter = Limiter(any_redis, namespace)
    capped = policy(limit=1000, burst=100, concurrency=2)
    assert limiter.lease("k", capped, job_id="a", lease_ms=60_000).run
    assert limiter.lease("k", capped, job_id="b", lease_ms=60_000).run
    assert not limiter.lease("k", capped, job_id="c", lease_ms=60_000).run
    limiter.release("k", "a")
    assert limiter.lease("k", capped, job_id="c", lease_ms=60_000).run


def test_lease_of_a_dead_worker_expires(any_redis: Redis, namespace: str, clock: Clock) -> None:
    """A lease never released (its worker was killed) frees the slot when it expires."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    capped = policy(limit=1000, burst=100, concurrency=1)
    assert limiter.lease("k", capped, job_id="killed", lease_ms=200).run
    refused = limiter.lease("k", capped, job_id="next", lease_ms=60_000)
    assert not refused.run and refused.delay_ms == 200
    clock.advance(200)
    assert limiter.lease("k", capped, job_id="next", lease_ms=60_000).run


@pytest.mark.parametrize(
    ("account", "expected"),
    [({"portal_id": "123"}, "hubspot:123:app"), ({}, "hubspot:org1.default:app")],
)
def test_rate_key_fills_the_template_or_falls_back_per_connection(
    account: dict[str, str], expected: str
) -> None:
    """The key uses the account identifier; without one it counts per connection."""
    hubspot = RateLimitPolicy(limit=110, period_seconds=10, key="hubspot:{portal_id}:{app}")
    assert rate_key(hubspot, org_id="org1", connection="default", account=account) == expected


def test_limiter_keys_share_one_hash_tag(any_redis: Redis, namespace: str) -> None:
    """Every key the limiter writes for a rate key carries that key's hash tag."""
    limiter = Limiter(any_redis, namespace)
    for i in range(3):
        limiter.acquire("k", policy(daily_quota=10, concurrency=5), job_id=f"j{i}")
        limiter.lease("k", policy(concurrency=5), job_id=f"j{i}", lease_ms=1000)
    limiter.apply_feedback("k", RateLimitFeedback(limit=2), policy(), throttled=True)
    limiter.cool_down("k", 100)
    keys = [k.decode() for k in any_redis.scan_iter(f"*{namespace}*")]
    assert len(keys) >= 6 and all(k.startswith(limiter.prefix("k")) for k in keys)


def test_spent_budget_without_reset_waits_one_interval(any_redis: Redis, namespace: str) -> None:
    """remaining=0 with no reset time (HubSpot) cools down for one emission interval."""
    limiter = Limiter(any_redis, namespace)
    waited = limiter.apply_feedback("k", RateLimitFeedback(remaining=0), policy(limit=5))
    assert waited.pause_ms == 200
    assert not limiter.acquire("k", policy(), job_id="x").run


def counting(limiter: Limiter) -> list[int]:
    """Count the limiter's script calls (Redis round trips for decisions)."""
    calls: list[int] = []
    script = limiter._acquire

    def counted(**kwargs: object) -> object:
        calls.append(1)
        return script(**kwargs)  # type: ignore[arg-type]

    limiter._acquire = counted  # type: ignore[assignment,method-assign]
    return calls


FAST = {"limit": 1000, "period_seconds": 1, "burst": 100}


def test_high_rate_bursts_take_cells_ahead_in_one_round_trip(
    any_redis: Redis, namespace: str
) -> None:
    """A burst policy hands 16 jobs their slots from one Redis call, then asks again."""
    limiter = Limiter(any_redis, namespace)
    calls = counting(limiter)
    assert all(limiter.acquire("k", policy(**FAST), job_id=f"j{i}").run for i in range(16))
    assert len(calls) == 1
    assert limiter.acquire("k", policy(**FAST), job_id="j16").run
    assert len(calls) == 2


def test_cells_taken_ahead_count_against_the_bucket_for_everyone(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """Two processes batching on one key together never get more than the burst at once."""
    a, b = Limiter(any_redis, namespace, clock=clock), Limiter(any_redis, namespace, clock=clock)
    slow = policy(limit=1000, period_seconds=10, burst=100)  # batches of 10, leaks 1 / 10 ms
    runs = 0
    for i in range(300):
        limiter = a if i % 2 else b
        runs += limiter.acquire("k", slow, job_id=f"j{i}").run
    assert runs == 100


def test_a_cooldown_drops_cells_held_locally(any_redis: Redis, namespace: str) -> None:
    """After a 429 cooldown, held cells are not used: the next job waits like everyone."""
    limiter = Limiter(any_redis, namespace)
    assert limiter.acquire("k", policy(**FAST), job_id="j0").run
    limiter.cool_down("k", 500)
    decision = limiter.acquire("k", policy(**FAST), job_id="j1")
    assert not decision.run and decision.delay_ms > 300


def test_held_cells_expire_quickly() -> None:
    """A cell held past its deadline is not used (it would bunch with newer ones)."""
    now = [0.0]
    permits = LocalPermits(clock=lambda: now[0])
    permits.keep("k", 2)
    assert permits.take("k")
    now[0] += LOCAL_PERMIT_TTL_MS / 1000 + 0.01
    assert not permits.take("k")


@pytest.mark.parametrize(
    ("extra", "batch"),
    [
        ({}, 1),
        ({"burst": 3, "limit": 1000}, 1),
        ({"burst": 100, "limit": 1000, "daily_quota": 10_000}, 1),
        ({"burst": 100, "limit": 1000, "concurrency": 5}, 1),
        ({"burst": 100, "limit": 50}, 5),
        ({"burst": 10, "limit": 1000}, 5),
        ({"burst": 1000, "limit": 100_000}, 16),
    ],
)
def test_only_high_rate_burst_policies_batch(extra: dict[str, object], batch: int) -> None:
    """Quotas, caps, exact windows and slow keys take one cell at a time."""
    assert local_batch(policy(**extra)) == batch


def test_the_window_guard_covers_send_jitter_beyond_the_period() -> None:
    """An 'N per period' window is guarded 150 ms longer than the period, at most 5 % of it."""
    assert window_ms(policy(limit=100, period_seconds=10)) == 10_150
    assert window_ms(policy(limit=10, period_seconds=1)) == 1_050
    assert window_ms(policy(limit=10, period_seconds=0.2)) == 210
    assert window_ms(policy(limit=600, period_seconds=60)) == 60_150
    assert window_ms(policy(limit=100, period_seconds=10), margin_ms=20) == 10_020


def spacing(limiter: Limiter, key: str, p: RateLimitPolicy, jobs: int = 3) -> list[int]:
    """Gaps (ms) between the slots the next ``jobs`` fresh jobs reserve on ``key``."""
    slots = [limiter.acquire(key, p, job_id=f"s{i}").slot_ms for i in range(jobs)]
    return [b - a for a, b in itertools.pairwise(slots) if a and b]


def test_a_tighter_limit_the_provider_states_is_adopted(any_redis: Redis, namespace: str) -> None:
    """HubSpot-style Max=2 per 1000 ms (catalog: 5 per s) paces the key at 2 per window."""
    limiter = Limiter(any_redis, namespace)
    learned = limiter.apply_feedback("k", RateLimitFeedback(limit=2, interval=1.0), policy())
    assert learned.limit == 2
    assert limiter.acquire("k", policy(), job_id="j0").run
    assert all(gap == 525 for gap in spacing(limiter, "k", policy()))  # 1050 ms / 2
    ttl = any_redis.pttl(limiter.prefix("k") + ":learned")
    assert 0 < ttl <= LEARNED_TTL_MS


def test_a_looser_stated_limit_never_loosens_the_catalog(any_redis: Redis, namespace: str) -> None:
    """X-RateLimit-Limit: 600 (a longer window, say) keeps the catalog's 5 per second."""
    limiter = Limiter(any_redis, namespace)
    limiter.apply_feedback("k", RateLimitFeedback(limit=600), policy())
    assert limiter.acquire("k", policy(), job_id="j0").run
    assert spacing(limiter, "k", policy()) == [210, 210]


def test_a_bucket_size_stated_scales_the_leak_rate(any_redis: Redis, namespace: str) -> None:
    """Shopify's 20-call bucket against a catalog of 40 leaking 2/s: 20 leaking 1/s."""
    limiter = Limiter(any_redis, namespace)
    shopify = policy(limit=2, period_seconds=1, burst=40)
    learned = limiter.apply_feedback("k", RateLimitFeedback(limit=20, remaining=20), shopify)
    assert learned.limit == 1
    runs = [limiter.acquire("k", shopify, job_id=f"j{i}").run for i in range(21)]
    assert runs.count(True) == 20


def test_a_429_without_a_stated_limit_cuts_the_rate_once_per_period(
    any_redis: Redis, namespace: str
) -> None:
    """Several 429s of one overshoot cut the rate once (to 80 %), paced from then on."""
    limiter = Limiter(any_redis, namespace)
    p = policy(limit=10)
    first = limiter.apply_feedback("k", RateLimitFeedback(), p, throttled=True)
    second = limiter.apply_feedback("k", RateLimitFeedback(), p, throttled=True)
    assert first.limit == second.limit == 8
    assert limiter.acquire("k", p, job_id="j0").run
    assert all(gap in (131, 132) for gap in spacing(limiter, "k", p))  # 1050 ms / 8


def test_grants_probe_a_cut_rate_back_up_to_the_catalog(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """After a cut, each window's worth of grants adds one, until the catalog's limit holds
    again (additive increase)."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    p = policy(limit=10, period_seconds=0.01)
    limiter.apply_feedback("k", RateLimitFeedback(), p, throttled=True)
    learned = limiter.prefix("k") + ":learned"
    seen = []
    for i in range(40):
        limit = any_redis.hget(learned, "limit")
        seen.append(float(limit) if limit else None)
        clock.advance(2)
        decision = limiter.acquire("k", p, job_id=f"j{i}")
        if decision.run:
            limiter.stamp("k", decision.entry)  # what the client does once it has sent
    values = [v for v in seen if v is not None]
    assert values[0] == 8 and values == sorted(values)
    assert seen[-1] is None  # back to the catalog's limit: the learned one is gone


def test_a_job_back_late_within_a_window_keeps_its_slot(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """2 per 4 s: back 2.5 s after its slot (its lane was busy), a job still sends on it
    rather than losing it and queueing behind the next reservation; the guard keeps count."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    slow = policy(limit=2, period_seconds=4)
    assert limiter.acquire("k", slow, job_id="j0").run
    reserved = limiter.acquire("k", slow, job_id="j1")
    assert limiter.acquire("k", slow, job_id="j2").reserved
    clock.advance(reserved.delay_ms + 2_500)
    assert limiter.acquire("k", slow, job_id="j1", slot_ms=reserved.slot_ms).run
