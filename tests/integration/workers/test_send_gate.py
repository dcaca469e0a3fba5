"""The send gate: a request takes its rate-limit slot at the moment it is sent."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from providers.spec import RateLimitPolicy
from workers.errors import LimiterUnavailable, SlotDeferred
from workers.limiter import Limiter
from workers.send_gate import EARLY_RETURN_MS, Admission, SendGate, begin_attempt


def policy(limit: int, period: float) -> RateLimitPolicy:
    return RateLimitPolicy(limit=limit, period_seconds=period, key="p:{connection}")


@pytest.fixture(autouse=True)
def no_admission() -> None:
    begin_attempt(None)


def test_a_short_wait_is_slept_through_holding_the_slot(any_redis: Redis, namespace: str) -> None:
    """With the next slot 0.26 s away, the gate sleeps until it and lets the request go."""
    limiter = Limiter(any_redis, namespace)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    SendGate(limiter, "k", policy(4, 1), "j0", "hubspot")()
    SendGate(limiter, "k", policy(4, 1), "j1", "hubspot", sleep=sleep)()  # no deferral
    assert slept and 0.1 <= slept[0] <= 0.27


def test_a_long_wait_defers_the_job_holding_its_slot(any_redis: Redis, namespace: str) -> None:
    """With the next slot seconds away, the job is deferred (no attempt spent) to come back
    a little before its slot, and the attempt's admission carries the reserved slot."""
    limiter = Limiter(any_redis, namespace)
    admission = Admission("k", "j1")
    begin_attempt(admission)
    SendGate(limiter, "k", policy(1, 5), "j0", "hubspot")()
    with pytest.raises(SlotDeferred) as deferred:
        SendGate(limiter, "k", policy(1, 5), "j1", "hubspot")()
    assert admission.slot_ms > 0
    assert 4.5 <= deferred.value.retry_after + EARLY_RETURN_MS / 1000 <= 5.15  # 5 s + margin


def test_a_limiter_that_raises_stops_the_send(namespace: str) -> None:
    """Redis unreachable: LimiterUnavailable (a deferral), never a request without a slot."""
    dead = Redis(port=1, socket_connect_timeout=0.2)  # nothing listens on port 1
    gate = SendGate(Limiter(dead, namespace), "k", policy(5, 1), "j0", "hubspot")
    with pytest.raises(LimiterUnavailable):
        gate()


def test_an_admission_that_could_not_reach_redis_stops_the_send(
    any_redis: Redis, namespace: str
) -> None:
    """Redis back by send time does not matter: the attempt's admission failed, so no send."""
    begin_attempt(Admission("k", "j0", unreachable=True))
    with pytest.raises(LimiterUnavailable):
        SendGate(Limiter(any_redis, namespace), "k", policy(5, 1), "j0", "hubspot")()
