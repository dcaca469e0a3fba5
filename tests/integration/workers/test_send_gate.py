"""The send gate: a request takes its rate-limit slot at the moment it is sent."""

from __future__ import annotations

import time

import httpx
import pytest
from redis import Redis

from providers.auth.credentials import BearerToken
from providers.client import ProviderClient
from providers.registry import load_catalog
from providers.spec import RateLimitPolicy
from tests.integration.workers.conftest import Clock
from tests.referee import Referee, busiest_window
from workers.errors import LimiterUnavailable, SlotDeferred
from workers.limiter import Limiter
from workers.send_gate import EARLY_RETURN_MS, Admission, SendGate, begin_attempt


def policy(limit: int, period: float) -> RateLimitPolicy:
    return RateLimitPolicy(limit=limit, period_seconds=period, key="p:{connection}")


@pytest.fixture(autouse=True)
def no_admission() -> None:
    begin_attempt(None)


def test_a_short_wait_is_slept_through_holding_the_slot(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """With the next slot 0.263 s away, the gate sleeps until it and lets the request go."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(round(seconds * 1000))

    SendGate(limiter, "k", policy(4, 1), "j0", "hubspot")()
    SendGate(limiter, "k", policy(4, 1), "j1", "hubspot", sleep=sleep)()  # no deferral
    assert slept == [0.263]  # (1 s + 50 ms margin) / 4, rounded up


def test_a_long_wait_defers_the_job_holding_its_slot(
    any_redis: Redis, namespace: str, clock: Clock
) -> None:
    """With the next slot seconds away, the job is deferred (no attempt spent) to come back
    a little before its slot, and the attempt's admission carries the reserved slot."""
    limiter = Limiter(any_redis, namespace, clock=clock)
    admission = Admission("k", "j1")
    begin_attempt(admission)
    SendGate(limiter, "k", policy(1, 5), "j0", "hubspot")()
    with pytest.raises(SlotDeferred) as deferred:
        SendGate(limiter, "k", policy(1, 5), "j1", "hubspot")()
    assert admission.slot_ms == clock.ms + 5_150  # 5 s + the 150 ms window margin
    assert deferred.value.retry_after == (5_150 - EARLY_RETURN_MS) / 1000


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


ACCOUNT = {"portal_id": "4242"}


class _LateWire(httpx.BaseTransport):
    """Forwards to ``inner``; the first request leaves ``late`` s after its grant (a thread
    descheduled between the gate and the write)."""

    def __init__(self, inner: httpx.BaseTransport, late: float) -> None:
        self.inner, self.late = inner, late

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.late:
            time.sleep(self.late)
            self.late = 0.0
        return self.inner.handle_request(request)


@pytest.mark.parametrize("transport", ["socket", "mock"])
def test_a_late_send_is_counted_from_when_it_left(
    any_redis: Redis, namespace: str, transport: str
) -> None:
    """2 per 1 s, the first request leaves 0.4 s after its grant: the third is granted a
    window after the first *left*, so no 1 s window holds three (the grant's time allowed it
    at 1.05 s). With a transport that traces no write, the send's return is the stamp."""
    referee = Referee(limit=2, period=1.0)
    inner = referee.transport() if transport == "socket" else _mock_to(referee)
    wire = _LateWire(inner, 0.4)
    limiter = Limiter(any_redis, namespace)
    spec = load_catalog().get("hubspot")
    try:
        for job in ("j0", "j1", "j2"):
            gate = SendGate(limiter, "k", policy(2, 1), job, "hubspot")
            with ProviderClient(spec, ACCOUNT, BearerToken("t"), wire, before_send=gate) as client:
                client.get("/crm/v3/objects/contacts")
        times = referee.accepted_times()
    finally:
        referee.close()
    assert len(times) == 3 and busiest_window(times, 1.0) <= 2, times


def _mock_to(referee: Referee) -> httpx.BaseTransport:
    """A transport without httpcore's trace events, still arriving at the referee."""
    real = referee.transport()
    return httpx.MockTransport(real.handle_request)
