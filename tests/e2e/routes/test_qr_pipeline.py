"""Done when (#9): a QR_SCANNED event routed to HubSpot, Slack and Google Sheets yields
exactly one contact, one message and one row — with a real worker process SIGKILLed
mid-pipeline and Slack answering 429 then 500 — on real Redis and PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.sandbox import Sandbox
from providers.sandbox.scripted import Scripted
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.services.routes import create_route
from tests.conftest import runtime_settings, unique
from tests.integration.routes.qr_route import QR_ROUTE, SCAN, connect_qr_providers, created
from tests.integration.served_sandbox import sandbox_env, served
from tests.integration.workers.test_worker_processes import start_worker, stop
from workers.inprocess import pending

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=3)


@pytest.fixture
def root(sandbox: Sandbox) -> Iterator[str]:
    with served(sandbox) as url:
        yield url


@pytest.fixture
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str, sandbox: Sandbox
) -> Iterator[Runtime]:
    settings = runtime_settings(
        backend="servers",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
    )
    runtime = build_runtime(settings, sandbox=sandbox)
    yield runtime
    runtime.close()


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def test_qr_scan_creates_one_contact_one_message_one_row_despite_kill_and_faults(
    rt: Runtime, sandbox: Sandbox, root: str, tmp_path: Path
) -> None:
    """Kill the worker while the HubSpot step is in flight; Slack 429 then 500: still 1/1/1."""
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("e2e")).id
    connect_qr_providers(rt, org)
    create_route(rt.sessions, rt.catalog, org, QR_ROUTE)
    hubspot_hold = sandbox.inject("hubspot", Scripted(pauses=[4.0]))
    assert isinstance(hubspot_hold, Scripted)
    sandbox.inject("slack", Scripted(statuses=[429, 500]))
    env = sandbox_env(sandbox, root)

    published = rt.event_publisher.publish(org, "QR_SCANNED", SCAN, idempotency_key="scan-e2e")
    assert published.jobs == 1
    first = start_worker(rt, tmp_path / "first.log", env=env)
    try:
        wait_until(lambda: not hubspot_hold.pauses, 30, "the HubSpot call")  # in flight now
    finally:
        stop(first, signal.SIGKILL)
    assert "job succeeded" not in (tmp_path / "first.log").read_text()

    second = start_worker(rt, tmp_path / "second.log", env=env)
    try:
        wait_until(lambda: created(rt)[2] >= 1, 90, "the Sheets row")
        wait_until(lambda: pending(rt.worker_broker, rt.lanes) == 0, 30, "draining")
    finally:
        stop(second, signal.SIGTERM)

    log = (tmp_path / "second.log").read_text()
    assert created(rt) == (1, 1, 1)
    assert "job deferred" in log and "job retried" in log  # Slack's 429, then its 500
    assert sandbox.requests["hubspot"] == 2  # the killed call and its redelivery (an upsert)
    with rt.sessions() as session:
        assert list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org))) == []
