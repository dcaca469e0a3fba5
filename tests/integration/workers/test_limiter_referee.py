"""The limiter judged by a provider stand-in (tests/referee.py) that counts what arrives."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import new_org, runtime_settings
from tests.log_records import job_events, job_records
from tests.referee import Referee, busiest_window
from workers.inprocess import run_until_idle
from workers.limiter import Limiter

pytestmark = pytest.mark.integration


def refereed(rt: Runtime, referee: Referee) -> Runtime:
    """``rt`` with every provider request going to ``referee`` (before the broker is built)."""
    context = dataclasses.replace(rt.worker_context, transport=referee.transport())
    rt.__dict__["worker_context"] = context
    return rt


@pytest.fixture
def make(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Any]:
    """Builds a runtime with a HubSpot policy, refereed by the given stand-in."""
    made: list[tuple[Runtime, Referee]] = []

    def build(referee: Referee, backend: str = "embedded", **rate_limit: Any) -> Runtime:
        providers = {"hubspot": {"rate_limit": rate_limit}}
        settings = runtime_settings(
            backend=backend,
            tmp_path=tmp_path,
            namespace=namespace,
            request=request,
            providers=providers,
        )
        rt = refereed(build_runtime(settings), referee)
        made.append((rt, referee))
        return rt

    yield build
    for rt, referee in made:
        rt.close()
        referee.close()


def connected(rt: Runtime) -> str:
    """An org with a HubSpot connection (the referee takes any token)."""
    org = new_org(rt)
    with rt.sessions.begin() as session:
        conn = ConnectionRepository(session, org).create(
            "hubspot", account_identifier={"portal_id": "7"}
        )
        CredentialRepository(session, org, rt.keyring).store(
            conn.id, auth_mode="oauth2_code", access_token=f"token-{org}", refresh_token="r"
        )
    return org


def enqueue(rt: Runtime, org: str, count: int) -> None:
    job = {
        "kind": "action",
        "org_id": org,
        "provider": "hubspot",
        "payload": {"action": "proxy", "input": {"path": "/crm/v3/objects/contacts"}},
    }
    for _ in range(count):
        rt.enqueuer.enqueue(job)


def dead(rt: Runtime, org: str) -> list[Any]:
    with rt.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


@pytest.mark.parametrize("backend", ["embedded", "servers"])
def test_no_request_leaves_while_the_limiter_cannot_answer(
    make: Any, backend: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis gone mid-job (the limiter raises at the send): the job waits and sends nothing
    until the limiter answers again; then every job runs once, none dead, none retried."""
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")
    referee = Referee(limit=1000, period=1.0)
    rt = make(referee, backend, limit=100, period_seconds=1)
    org = connected(rt)
    enqueue(rt, org, 4)
    acquire = Limiter.acquire
    failures = [6]
    sent_while_down: list[int] = []

    def flaky(self: Limiter, *args: Any, **kwargs: Any) -> Any:
        if failures[0] > 0:
            failures[0] -= 1
            sent_while_down.append(len(referee.arrivals))
            raise RedisConnectionError("Connection refused")
        return acquire(self, *args, **kwargs)

    monkeypatch.setattr(Limiter, "acquire", flaky)
    run_until_idle(rt.worker_broker, rt.lanes, threads=2, timeout_s=60)
    assert failures == [0] and sent_while_down == [0] * 6
    assert len(referee.arrivals) == 4 and all(a.accepted for a in referee.arrivals)
    outcomes = job_events(caplog.records)
    assert outcomes.count("succeeded") == 4 and "retried" not in outcomes
    assert dead(rt, org) == []


def test_an_unreachable_limiter_at_admission_sends_nothing(
    make: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the concurrency lease cannot be asked for (Redis down at admission), the attempt
    is deferred without sending, even though Redis is back by the time it would send."""
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")
    referee = Referee(limit=1000, period=1.0)
    rt = make(referee, limit=100, period_seconds=1, concurrency=2)
    org = connected(rt)
    enqueue(rt, org, 2)
    lease = Limiter.lease
    failures = [2]

    def flaky(self: Limiter, *args: Any, **kwargs: Any) -> Any:
        if failures[0] > 0:
            failures[0] -= 1
            raise RedisConnectionError("Connection refused")
        return lease(self, *args, **kwargs)

    monkeypatch.setattr(Limiter, "lease", flaky)
    run_until_idle(rt.worker_broker, rt.lanes, threads=2, timeout_s=60)
    unavailable = [
        r
        for r in job_records(caplog.records)
        if getattr(r, "error_class", None) == "limiter_unavailable"
    ]
    assert failures == [0] and len(unavailable) == 2
    assert len(referee.arrivals) == 2  # each job once, after a lease was held
    assert dead(rt, org) == []


def test_the_provider_never_sees_more_than_the_limit_per_window(make: Any) -> None:
    """Saturated demand on 5 per second: no sliding second at the referee holds more than 5,
    and the budget is used (the span is no longer than pacing needs)."""
    referee = Referee(limit=5, period=1.0)
    rt = make(referee, limit=5, period_seconds=1)
    org = connected(rt)
    enqueue(rt, org, 16)
    run_until_idle(rt.worker_broker, rt.lanes, threads=4, timeout_s=60)
    times = referee.accepted_times()
    assert len(times) == 16
    assert busiest_window(times, 1.0) <= 5
    assert times[-1] - times[0] < 16 / 5 + 1.0


def test_a_stated_limit_below_the_catalog_is_learned_before_it_bites(make: Any) -> None:
    """HubSpot enforcing 5 per second (stated in its headers) while our catalog says 10: the
    limiter adopts the stated limit from the first answers; at most a couple of 429s."""
    referee = Referee(limit=5, period=1.0, mode="enforce", style="hubspot")
    rt = make(referee, limit=10, period_seconds=1)
    org = connected(rt)
    enqueue(rt, org, 20)
    run_until_idle(rt.worker_broker, rt.lanes, threads=4, timeout_s=60)
    assert len(referee.accepted_times()) == 20
    assert referee.refused() <= 2
    assert dead(rt, org) == []
