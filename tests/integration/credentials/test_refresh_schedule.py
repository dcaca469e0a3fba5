"""Proactive refresh: ``enqueue_due_refreshes`` enqueues each due credential once."""

from __future__ import annotations

from datetime import timedelta

from producers.proactive_refreshes import enqueue_due_refreshes
from storage.repositories.connections import ConnectionRepository
from storage.types import utcnow
from switchyard.runtime import Runtime
from tests.integration.credentials.helpers import connect, credential
from workers.inprocess import run_until_idle


def test_only_credentials_within_their_margin_are_enqueued(sandboxed: Runtime) -> None:
    """HubSpot's margin is 300 s: a token expiring in 200 s is due, one in 900 s is not."""
    org, _ = connect(sandboxed, expires_in=200)
    connect(sandboxed, expires_in=900, org=org, name="later")
    connect(sandboxed, expires_in=None, org=org, name="never")
    assert enqueue_due_refreshes(sandboxed, utcnow(), org_id=org) == 1
    assert sandboxed.lanes.depth("refresh").total == 1
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    assert sandboxed.sandbox is not None and sandboxed.sandbox.token_calls("hubspot") == 1
    assert enqueue_due_refreshes(sandboxed, utcnow(), org_id=org) == 0, "no longer due"


def test_several_schedulers_enqueue_a_due_credential_once(sandboxed: Runtime) -> None:
    """Three scheduler passes over the same expiry enqueue one job (deterministic key)."""
    org, _ = connect(sandboxed, expires_in=100)
    counts = [enqueue_due_refreshes(sandboxed, utcnow(), org_id=org) for _ in range(3)]
    assert counts == [1, 0, 0]
    assert sandboxed.lanes.depth("refresh").total == 1


def test_a_later_clock_makes_a_far_expiry_due(sandboxed: Runtime) -> None:
    """``now`` is the scheduler's clock: a token expiring in an hour is due 56 minutes on."""
    org, conn = connect(sandboxed, expires_in=3600)
    assert enqueue_due_refreshes(sandboxed, utcnow(), org_id=org) == 0
    later = utcnow() + timedelta(minutes=56)
    assert enqueue_due_refreshes(sandboxed, later, org_id=org) == 1
    assert credential(sandboxed, org, conn).version == 1


def test_broken_connections_are_not_refreshed(sandboxed: Runtime) -> None:
    """A connection in error waits for its user to reconnect: no refresh job, no storm."""
    org, conn = connect(sandboxed, expires_in=10)
    with sandboxed.sessions.begin() as session:
        ConnectionRepository(session, org).set_status(conn, "error", error_message="revoked")
    assert enqueue_due_refreshes(sandboxed, utcnow(), org_id=org) == 0


def test_the_scheduler_runs_proactive_refreshes(sandboxed: Runtime) -> None:
    """`switchyard scheduler`'s task list enqueues the refresh of a credential about to expire."""
    from switchyard.scheduler import Scheduler, default_tasks

    connect(sandboxed, expires_in=100)
    [task] = [t for t in default_tasks(sandboxed) if t.name == "token_refresh"]
    Scheduler([task]).run_once()
    assert sandboxed.lanes.depth("refresh").total >= 1
