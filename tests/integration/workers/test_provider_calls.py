"""Provider calls from jobs (the proxy action) against the sandbox: feedback reaches the limiter."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime, unique
from tests.log_records import job_events
from workers.inprocess import run_until_idle

HIGH = {"hubspot": {"rate_limit": {"limit": 1000, "period_seconds": 1, "burst": 1000}}}


@pytest.fixture(params=["embedded", "servers"])
def sandboxed(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime whose provider calls go to an in-process sandbox; our own limit set high."""
    yield from sandboxed_runtime(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH,
        max_retries=4,
    )


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")  # progress lines too
    yield caplog


def connected_org(rt: Runtime) -> str:
    """An org with a HubSpot connection holding a token the sandbox issued."""
    assert rt.sandbox is not None
    token = rt.sandbox.issue_token("hubspot")
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("org")).id
        conn = ConnectionRepository(session, org).create(
            "hubspot", account_identifier={"portal_id": "62515"}
        )
        CredentialRepository(session, org, rt.keyring).store(
            conn.id,
            auth_mode="oauth2_code",
            access_token=token.access_token,
            refresh_token=token.refresh_token,
        )
    return org


def proxy_job(org: str) -> dict[str, Any]:
    payload = {
        "action": "proxy",
        "input": {"path": "/crm/v3/objects/contacts", "query": {"limit": "5"}},
    }
    return {"kind": "action", "org_id": org, "provider": "hubspot", "payload": payload}


def outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return job_events(caplog.records)


def dead(rt: Runtime, org: str) -> list[Any]:
    with rt.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


def test_proxy_call_succeeds_with_the_stored_token(
    sandboxed: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """A proxy job reads the encrypted token and the sandbox accepts it."""
    org = connected_org(sandboxed)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    assert outcomes(logs).count("succeeded") == 1 and dead(sandboxed, org) == []


def test_provider_429s_defer_and_every_job_still_succeeds(
    sandboxed: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """When the provider's own limit bites (429 + Retry-After), jobs are deferred, not lost."""
    assert sandboxed.sandbox is not None
    sandboxed.sandbox.set_rate_limit("hubspot", 2, 1.0)
    org = connected_org(sandboxed)
    for _ in range(6):
        sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=30)
    seen = outcomes(logs)
    assert seen.count("succeeded") == 6
    assert "deferred" in seen and "retried" not in seen
    assert dead(sandboxed, org) == []


def test_spent_budget_in_a_success_cools_the_key_down(sandboxed: Runtime) -> None:
    """A success reporting remaining=0 puts the key into cooldown for every worker."""
    assert sandboxed.sandbox is not None
    sandboxed.sandbox.set_rate_limit("hubspot", 1, 5.0)
    org = connected_org(sandboxed)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    cooling = [
        k
        for k in sandboxed.redis.scan_iter("*:cooldown")
        if sandboxed.settings.workers.namespace in k.decode()
    ]
    assert cooling, "the limiter should have been told the budget is spent"


def test_provider_5xx_is_retried_then_succeeds(
    sandboxed: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """Two injected 503s are retried with backoff; the job then succeeds."""
    assert sandboxed.sandbox is not None
    sandboxed.sandbox.inject("hubspot", server_errors=2)
    org = connected_org(sandboxed)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=30)
    # A retry may start before the attempt it replaces has logged "retried": count, not order.
    seen = outcomes(logs)
    assert Counter(seen) == {"started": 3, "retried": 2, "succeeded": 1}
    assert seen[-1] == "succeeded"


def test_missing_connection_is_dead_lettered_with_the_reason(sandboxed: Runtime) -> None:
    """A provider job for an org with no connection dead-letters as connection_error."""
    with sandboxed.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("bare")).id
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    [row] = dead(sandboxed, org)
    assert row.error_class == "connection_error" and "connect it, then replay" in row.error_message


def test_token_never_appears_in_logs(sandboxed: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    """The access token is used but never logged, not even at DEBUG."""
    caplog.set_level(logging.DEBUG)
    org = connected_org(sandboxed)
    with sandboxed.sessions() as session:
        conn = ConnectionRepository(session, org).get_by_provider("hubspot")
        token = CredentialRepository(session, org, sandboxed.keyring).load(conn.id).access_token
    assert token is not None
    sandboxed.sandbox.inject("hubspot", server_errors=1)  # type: ignore[union-attr]
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    assert token.reveal() not in caplog.text
