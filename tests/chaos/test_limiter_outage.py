"""A limiter that raises: the private Redis SIGKILLed mid-drain under a tight rate limit,
then restarted. The stand-in's arrival times judge the limiter as a provider would."""

from __future__ import annotations

import time

import pytest

from tests.chaos.servers import wait_until
from tests.chaos.stack import PROVIDER, Stack, full_size
from tests.referee import busiest_window

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
DOWN_S = 6.0
PERIOD_S = 1.0
JITTER_S = 0.05  # the stand-in reads arrival times in Python: shave its jitter off the window


def rate_limited(stack: Stack, limit: int) -> None:
    """The stand-in's policy tightened to ``limit`` per second, with no burst allowance, for
    the processes started after this."""
    provider = f"SWITCHYARD_PROVIDERS__{PROVIDER.upper()}__RATE_LIMIT__"
    stack.env[provider + "LIMIT"] = str(limit)
    stack.env[provider + "PERIOD_SECONDS"] = str(int(PERIOD_S))
    stack.env.pop(provider + "BURST", None)


def test_limiter_outage_sends_no_request_without_a_slot(stack: Stack) -> None:
    """Redis dies while rate-limited jobs run: the provider never sees more requests in any
    window than the policy allows, and every accepted job ran or was dead-lettered."""
    jobs, limit = (1_500, 30) if full_size() else (400, 20)
    rate_limited(stack, limit)
    orgs = stack.orgs(3)  # one rate key: the policy counts per receiving host
    for index in range(jobs):
        stack.enqueue(orgs[index % 3], delay_ms=50)
    workers = [stack.worker("w1"), stack.worker("w2")]
    wait_until(lambda: sum(stack.stand_in.counts().values()) > jobs // 5, 120, "drain started")
    stack.redis.kill()
    sent_before = len(stack.stand_in.arrival_times())
    time.sleep(DOWN_S)
    sent_while_down = len(stack.stand_in.arrival_times()) - sent_before
    stack.redis.start()
    report = stack.settle("limiter_redis_gone", timeout=jobs / limit + 180)
    times = stack.stand_in.arrival_times()
    report.extra.update(
        limit_per_s=limit,
        busiest_window=busiest_window(times, PERIOD_S - JITTER_S),
        requests=len(times),
        sent_while_down=sent_while_down,
        down_s=DOWN_S,
    )
    report.save()
    assert all(w.poll() is None for w in workers), "a worker died with Redis"
    assert report.lost == [], f"{len(report.lost)} lost; {stack.log_tail('w1')}"
    assert busiest_window(times, PERIOD_S - JITTER_S) <= limit, report.line()
