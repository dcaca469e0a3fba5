"""Execution control through real workers: deferral, cooldown, dead letters, fairness."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from contract.envelope import ActionJob
from providers.errors import PermanentError, RateLimited
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import new_org, runtime_settings
from tests.log_records import job_records
from workers.context import WorkerContext
from workers.errors import TransientJobError
from workers.handlers.action import BUILTIN_ACTIONS
from workers.inprocess import run_until_idle
from workers.limiter import rate_key_and_policy
from workers.send_gate import SendGate

FAST_HUBSPOT = {"hubspot": {"rate_limit": {"limit": 1000, "period_seconds": 1, "burst": 1000}}}


@pytest.fixture(params=["embedded", "servers"])
def fast_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """A runtime whose HubSpot limit is high enough not to matter, and no retries."""
    settings = runtime_settings(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=FAST_HUBSPOT,
        max_retries=0,
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")  # progress lines too
    yield caplog


def action(org_id: str, name: str, **input: Any) -> dict[str, Any]:
    return {
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"action": name, "input": input},
    }


def events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, float]]:
    """(outcome, job id, time) from the outcome log, in order."""
    found = []
    for record in job_records(caplog.records):
        found.append((record.job_event, record.job_id, record.created))
    return found


def test_deferral_does_not_consume_retries(
    fast_runtime: Runtime, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job rate limited twice still succeeds with zero retries allowed."""
    calls: list[int] = []

    def limited_twice(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(1)
        if len(calls) <= 2:
            raise RateLimited("429 from provider", provider="hubspot", status=429, retry_after=0.05)
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "limited_twice", limited_twice)
    org = new_org(fast_runtime)
    job = fast_runtime.enqueuer.enqueue(action(org, "limited_twice")).job_id
    run_until_idle(fast_runtime.worker_broker, fast_runtime.lanes, timeout_s=20)
    outcomes = [o for o, i, _ in events(logs) if i == job and o != "started"]
    assert outcomes == ["deferred", "deferred", "succeeded"]
    with fast_runtime.sessions() as session:
        assert AdminDeadJobRepository(session).count(DeadJobFilter(org_id=org)) == 0


def test_a_429_pauses_the_whole_key(
    fast_runtime: Runtime, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After one job gets 429 + Retry-After, no job on the same key sends before it ends."""
    hits: list[int] = []
    sent: list[float] = []

    def first_429(job: ActionJob, context: object) -> Mapping[str, Any]:
        hits.append(1)
        if len(hits) == 1:
            raise RateLimited("slow down", provider="hubspot", status=429, retry_after=0.8)
        return {"ok": True}

    def send(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
        spec = context.catalog.get("hubspot")
        key, policy = rate_key_and_policy(spec, context.accounts, job.org_id, job.connection)
        SendGate(context.limiter, key, policy, job.id, "hubspot")()  # what call_provider does
        sent.append(time.time())
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "first_429", first_429)
    monkeypatch.setitem(BUILTIN_ACTIONS, "send", send)
    org = new_org(fast_runtime)
    limited = fast_runtime.enqueuer.enqueue(action(org, "first_429")).job_id
    for _ in range(3):
        fast_runtime.enqueuer.enqueue(action(org, "send"))
    # One thread: the 429 job runs first, so the others can only send after it.
    run_until_idle(fast_runtime.worker_broker, fast_runtime.lanes, threads=1, timeout_s=20)
    deferred_at = next(t for o, i, t in events(logs) if o == "deferred" and i == limited)
    assert len(sent) == 3
    assert min(sent) - deferred_at >= 0.7


def test_permanent_provider_error_goes_straight_to_the_dlq(
    runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider 4xx (PermanentError) is dead-lettered after one attempt, with its class."""

    def bad_request(job: ActionJob, context: object) -> Mapping[str, Any]:
        raise PermanentError(
            "400 Bad Request: property 'emial' does not exist", provider="hubspot", status=400
        )

    monkeypatch.setitem(BUILTIN_ACTIONS, "bad_request", bad_request)
    runtime.enqueuer.enqueue(action(org_id, "bad_request"))
    run_until_idle(runtime.worker_broker, runtime.lanes, timeout_s=30)
    with runtime.sessions() as session:
        [dead] = AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org_id))
    assert dead.attempts == 1 and dead.error_class == "permanent_error"
    assert "emial" in dead.error_message


def test_small_org_is_not_starved_by_a_backlog(
    fast_runtime: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """Jobs of an org arriving behind another org's 60-job backlog run within the first turns."""
    big, small = new_org(fast_runtime, "big"), new_org(fast_runtime, "small")
    for _ in range(60):
        fast_runtime.enqueuer.enqueue(action(big, "noop"))
    small_ids = {fast_runtime.enqueuer.enqueue(action(small, "noop")).job_id for _ in range(3)}
    run_until_idle(fast_runtime.worker_broker, fast_runtime.lanes, threads=1, timeout_s=30)
    order = [i for o, i, _ in events(logs) if o == "succeeded"]
    assert len(order) == 63
    last_small = max(order.index(i) for i in small_ids)
    assert last_small < 15, f"small org's last job ran at position {last_small}"


def test_not_before_waits_in_redis_until_due(
    fast_runtime: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """A job with not_before runs no earlier than that time."""
    from datetime import UTC, datetime, timedelta

    org = new_org(fast_runtime)
    due = datetime.now(UTC) + timedelta(milliseconds=700)
    job = fast_runtime.enqueuer.enqueue(
        {**action(org, "noop"), "not_before": due.isoformat()}
    ).job_id
    assert fast_runtime.lanes.depth("action").waiting == 1
    run_until_idle(fast_runtime.worker_broker, fast_runtime.lanes, timeout_s=20)
    [started] = [t for o, i, t in events(logs) if o == "started" and i == job]
    assert started >= due.timestamp() - 0.05


def test_a_retry_is_laned_only_after_its_concurrency_lease_is_released(
    embedded_runtime_with: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cap 1: when a failed attempt's retry reaches the lanes, its lease is already gone.

    Otherwise a retry picked up at once (full jitter can make its delay ~0) would take the
    lease under the same job id, and lose it to the first attempt's late release.
    """
    capped = {
        "hubspot": {"rate_limit": {**FAST_HUBSPOT["hubspot"]["rate_limit"], "concurrency": 1}}
    }
    rt = embedded_runtime_with(providers=capped, max_retries=1, min_backoff_ms=1, max_backoff_ms=1)
    ns = rt.settings.workers.namespace
    leases_when_laned: list[int] = []

    def leases() -> int:
        keys = [k for k in rt.redis.scan_iter(f"{{{ns}:rl:*") if k.endswith(b":leases")]
        return sum(int(rt.redis.zcard(k)) for k in keys)

    push = rt.lanes.push_message

    def spying_push(*args: Any, **kwargs: Any) -> bool:
        leases_when_laned.append(leases())
        return push(*args, **kwargs)

    attempts: list[str] = []

    def fails_once(job: ActionJob, context: object) -> Mapping[str, Any]:
        attempts.append(job.id)
        if len(attempts) == 1:
            raise TransientJobError("provider answered 503")
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "fails_once", fails_once)
    rt.enqueuer.enqueue(action(new_org(rt), "fails_once"))
    monkeypatch.setattr(rt.lanes, "push_message", spying_push)
    run_until_idle(rt.worker_broker, rt.lanes, threads=2, timeout_s=30)
    assert len(attempts) == 2
    assert leases_when_laned == [0]
    assert leases() == 0


@pytest.fixture(params=["embedded", "servers"])
def slow_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """HubSpot at 1 request per 2 s."""
    settings = runtime_settings(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers={"hubspot": {"rate_limit": {"limit": 1, "period_seconds": 2}}},
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()


def test_a_job_deferred_for_its_slot_returns_ahead_of_its_orgs_backlog(
    slow_runtime: Runtime, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deferred holding a slot 2 s away, a job comes back for it ahead of the 30 jobs its
    org queued meanwhile (3 s of work on one thread), not behind them, late."""

    def send(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
        spec = context.catalog.get("hubspot")
        key, policy = rate_key_and_policy(spec, context.accounts, job.org_id, job.connection)
        written = SendGate(context.limiter, key, policy, job.id, "hubspot")()
        written()  # what the client does once the request is on the wire
        return {"ok": True}

    def work(job: ActionJob, context: object) -> Mapping[str, Any]:
        time.sleep(0.1)
        return {"ok": True}

    monkeypatch.setitem(BUILTIN_ACTIONS, "send", send)
    monkeypatch.setitem(BUILTIN_ACTIONS, "work", work)
    org = new_org(slow_runtime)
    slow_runtime.enqueuer.enqueue(action(org, "send"))
    waiting = slow_runtime.enqueuer.enqueue(action(org, "send")).job_id
    backlog = [slow_runtime.enqueuer.enqueue(action(org, "work")).job_id for _ in range(30)]
    run_until_idle(slow_runtime.worker_broker, slow_runtime.lanes, threads=1, timeout_s=30)
    started = [(i, t) for o, i, t in events(logs) if o == "started"]
    back = [t for i, t in started if i == waiting][-1]
    assert back < max(t for i, t in started if i in backlog)
