"""A provider's daily allocation (Salesforce ``api-usage``): stop at the reserve, probe."""

from __future__ import annotations

import httpx
import pytest
from redis import Redis

from providers.ratelimit_feedback import RateLimitFeedback, sforce_limit_info
from providers.spec import RateLimitPolicy
from tests.integration.workers.conftest import Clock
from workers.errors import QuotaDeferred
from workers.learned_limits import QUOTA_PROBE_MS
from workers.limiter import Limiter
from workers.send_gate import SendGate, begin_attempt

POLICY = RateLimitPolicy(limit=100_000, period_seconds=86_400, burst=1_000, key="sf:{connection}")


@pytest.fixture(autouse=True)
def no_admission() -> None:
    begin_attempt(None)


def usage(used: int, total: int) -> RateLimitFeedback:
    """What the client parses off a Salesforce answer."""
    headers = httpx.Headers({"Sforce-Limit-Info": f"api-usage={used}/{total}"})
    return sforce_limit_info(headers, dict, 0.0)


def test_an_allocation_at_its_reserve_defers_with_reason_quota(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """14,300 of 15,000 used (5 % reserve: 750): the next request is not sent; the job is
    deferred (reason quota) for one probe interval, far below the catalog's 100k a day."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    limiter.apply_feedback("k", usage(14_300, 15_000), POLICY)
    with pytest.raises(QuotaDeferred) as deferred:
        SendGate(limiter, "k", POLICY, "j0", "salesforce")()
    assert deferred.value.error_class == "quota"
    assert deferred.value.retry_after * 1000 == QUOTA_PROBE_MS


def test_room_above_the_reserve_sends(any_redis: Redis, namespace: str) -> None:
    """14,000 of 15,000 used leaves more than the reserve: requests go."""
    limiter = Limiter(any_redis, namespace)
    limiter.apply_feedback("k", usage(14_000, 15_000), POLICY)
    assert limiter.acquire("k", POLICY, job_id="j0").run


def test_a_spent_allocation_without_its_size_stops_the_key(
    any_redis: Redis, namespace: str
) -> None:
    """A provider stating only the daily remaining (HubSpot) stops the key at 0."""
    limiter = Limiter(any_redis, namespace)
    limiter.apply_feedback("k", RateLimitFeedback(daily_remaining=0), POLICY)
    decision = limiter.acquire("k", POLICY, job_id="j0")
    assert not decision.run and decision.quota


def test_after_the_probe_interval_one_request_asks_and_room_lifts_the_stop(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """Once the stop runs out, one request probes while the others keep waiting; its answer
    showing room (calls rolled out of the 24 h window) lifts the stop for everyone."""
    limiter = Limiter(any_redis, namespace, quota_probe_ms=200, clock=clock)
    limiter.apply_feedback("k", usage(15_000, 15_000), POLICY)
    assert limiter.acquire("k", POLICY, job_id="j0").quota
    clock.advance(200)
    assert limiter.acquire("k", POLICY, job_id="probe").run
    assert limiter.acquire("k", POLICY, job_id="j1").quota
    limiter.apply_feedback("k", usage(13_000, 15_000), POLICY)
    assert limiter.acquire("k", POLICY, job_id="j1").run


def test_a_probe_that_finds_no_room_stops_the_key_again(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """Still at the reserve: the next probe is one interval later."""
    limiter = Limiter(any_redis, namespace, quota_probe_ms=200, clock=clock)
    limiter.apply_feedback("k", usage(15_000, 15_000), POLICY)
    clock.advance(200)
    assert limiter.acquire("k", POLICY, job_id="probe").run
    limiter.apply_feedback("k", usage(14_900, 15_000), POLICY)
    refused = limiter.acquire("k", POLICY, job_id="j1")
    assert refused.quota and refused.delay_ms == 200
