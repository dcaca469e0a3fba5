"""On-demand, 401-driven and scheduled refreshes against the sandbox's OAuth server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from providers.sandbox import Sandbox
from providers.sandbox.profiles.crm import HubSpot
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.credentials.helpers import (
    connect,
    connection_status,
    credential,
    dead,
    event_types,
    outcomes,
    proxy_job,
    refresh_job,
)
from workers.inprocess import run_until_idle


def run(rt: Runtime, timeout_s: float = 30) -> None:
    run_until_idle(rt.worker_broker, rt.lanes, timeout_s=timeout_s)


def token_calls(rt: Runtime, provider: str = "hubspot") -> int:
    assert rt.sandbox is not None
    return rt.sandbox.token_calls(provider)


def test_token_expiring_within_the_margin_is_refreshed_before_the_call(sandboxed: Runtime) -> None:
    """A token expiring in 60 s (margin 300 s) is refreshed once, then the job succeeds."""
    org, conn = connect(sandboxed, expires_in=60)
    before = credential(sandboxed, org, conn)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed)
    after = credential(sandboxed, org, conn)
    assert token_calls(sandboxed) == 1 and dead(sandboxed, org) == []
    assert after.version == before.version + 1 and after.access_token != before.access_token
    assert after.expires_at is not None and before.expires_at is not None
    assert after.expires_at > before.expires_at


def test_fresh_token_is_used_without_a_refresh(sandboxed: Runtime) -> None:
    """A token far from expiry is used as is: no token-endpoint call."""
    org, _ = connect(sandboxed, expires_in=3000)
    for _ in range(3):
        sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed)
    assert token_calls(sandboxed) == 0 and dead(sandboxed, org) == []


def refreshes(outcome: str) -> float:
    labels = {"provider": "hubspot", "outcome": outcome}
    return REGISTRY.get_sample_value("switchyard_token_refreshes_total", labels) or 0.0


def test_concurrent_jobs_on_an_expiring_token_refresh_once(sandboxed: Runtime) -> None:
    """Forty jobs on 8 threads needing one expiring token make one token call (one success)."""
    before = refreshes("succeeded")
    org, _ = connect(sandboxed, expires_in=10)
    for _ in range(40):
        sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed)
    assert token_calls(sandboxed) == 1 and dead(sandboxed, org) == []
    assert refreshes("succeeded") - before == 1


def test_a_401_refreshes_once_and_retries(
    sandboxed: Runtime, logs: pytest.LogCaptureFixture
) -> None:
    """A token the provider refuses (401) is refreshed and the request retried in the same attempt."""
    org, conn = connect(sandboxed, access_token="hubspot-at-unknown")
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed)
    assert token_calls(sandboxed) == 1
    assert outcomes(logs) == ["started", "succeeded"]
    assert credential(sandboxed, org, conn).access_token != "hubspot-at-unknown"


def test_rotating_refresh_token_is_replaced_and_the_new_one_kept(sandboxed: Runtime) -> None:
    """QuickBooks rotates: the stored refresh token changes and the next refresh uses it."""
    org, conn = connect(sandboxed, "quickbooks", expires_in=30)
    first = credential(sandboxed, org, conn)
    sandboxed.enqueuer.enqueue(proxy_job(org, "quickbooks"))
    run(sandboxed)
    second = credential(sandboxed, org, conn)
    assert second.refresh_token != first.refresh_token
    sandboxed.enqueuer.enqueue(refresh_job(org, "quickbooks", force=True))
    run(sandboxed)
    third = credential(sandboxed, org, conn)
    assert token_calls(sandboxed, "quickbooks") == 2 and dead(sandboxed, org) == []
    assert third.version == first.version + 2 and third.refresh_token != second.refresh_token


def test_refresh_job_renews_only_when_due_unless_forced(sandboxed: Runtime) -> None:
    """A scheduled refresh of a fresh token is a no-op; ``force`` refreshes anyway."""
    org, conn = connect(sandboxed, expires_in=3000)
    sandboxed.enqueuer.enqueue(refresh_job(org))
    run(sandboxed)
    assert token_calls(sandboxed) == 0
    sandboxed.enqueuer.enqueue(refresh_job(org, force=True))
    run(sandboxed)
    assert token_calls(sandboxed) == 1 and credential(sandboxed, org, conn).version == 2


def test_invalid_grant_breaks_the_connection_once_and_parks_its_jobs(sandboxed: Runtime) -> None:
    """Revoked grant: one token call, connection error, one event, all jobs parked."""
    assert sandboxed.sandbox is not None
    org, conn = connect(sandboxed, expires_in=10)
    sandboxed.sandbox.revoke("hubspot")
    for _ in range(20):
        sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed)
    status, reason = connection_status(sandboxed, org, conn)
    assert status == "error" and reason is not None and "invalid_grant" in reason
    assert token_calls(sandboxed) == 1
    parked = dead(sandboxed, org)
    assert len(parked) == 20 and {row.error_class for row in parked} == {"connection_error"}
    assert event_types(sandboxed, org).count("integration.error") == 1
    assert all("hubspot-rt" not in row.error_message for row in parked), "no token in the DLQ"


def test_transient_token_endpoint_failure_retries_without_breaking(sandboxed: Runtime) -> None:
    """Two 503s from the token endpoint: the job retries and succeeds, the connection stays up."""
    assert sandboxed.sandbox is not None
    org, conn = connect(sandboxed, expires_in=10)
    sandboxed.sandbox.inject("hubspot", server_errors=2)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run(sandboxed, timeout_s=60)
    assert dead(sandboxed, org) == []
    assert connection_status(sandboxed, org, conn) == ("connected", None)
    assert credential(sandboxed, org, conn).version == 2


class RefusingHubSpot(HubSpot):
    """A HubSpot whose API refuses every token (its token endpoint still works)."""

    def presented_secret(self, request: httpx.Request) -> str | None:
        return None


@pytest.fixture(params=["embedded", "servers"])
def refusing(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    settings = runtime_settings(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1, profiles=[RefusingHubSpot()]))
    yield rt
    rt.close()


def test_second_401_after_a_refresh_dead_letters_as_auth(refusing: Runtime) -> None:
    """When even the refreshed token is refused, the job dead-letters with class auth."""
    org, _ = connect(refusing)
    refusing.enqueuer.enqueue(proxy_job(org))
    run(refusing)
    [row] = dead(refusing, org)
    assert row.error_class == "auth" and "after a refresh" in row.error_message
    assert token_calls(refusing) == 1
