"""Refreshes racing across processes on PostgreSQL: a refresher queued on the row lock
behind one that found the grant revoked must not call the provider again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime
from tests.integration.credentials.helpers import ACCOUNTS, connect
from workers.errors import ConnectionUnusable
from workers.token_refresh import RefreshTarget, refresh

pytestmark = pytest.mark.integration

WAITING_ON_ME = (
    "SELECT count(*) FROM pg_locks WHERE NOT granted AND :me = ANY(pg_blocking_pids(pid))"
)


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    yield from sandboxed_runtime(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request
    )


def wait_for_a_waiter(session: object, me: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if session.execute(text(WAITING_ON_ME), {"me": me}).scalar_one():  # type: ignore[attr-defined]
            return
        time.sleep(0.02)
    raise AssertionError("the second refresher never queued on the row lock")


def test_refresher_queued_behind_a_revoked_grant_makes_no_token_call(served: Runtime) -> None:
    """Another process holds the row lock, finds the grant revoked and marks the connection
    error; the refresher that waited on the lock sees it and does not call the provider."""
    assert served.sandbox is not None
    org, conn = connect(served, expires_in=10)
    served.sandbox.revoke("hubspot")
    target = RefreshTarget(org, conn, "default", served.catalog.get("hubspot"), ACCOUNTS["hubspot"])
    outcome: list[BaseException | None] = []

    def second_process() -> None:
        try:
            refresh(served.worker_context, target, force=True)
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with served.sessions.begin() as first:  # the first process: lock, refused, error, commit
        me = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
        CredentialRepository(first, org, served.keyring).load_for_refresh(conn)
        waiter = threading.Thread(target=second_process)
        waiter.start()
        wait_for_a_waiter(first, me)
        ConnectionRepository(first, org).set_status(
            conn, "error", error_message="token refresh refused, reconnect needed: invalid_grant"
        )
    waiter.join(30)
    assert isinstance(outcome[0], ConnectionUnusable), outcome
    assert served.sandbox.token_calls("hubspot") == 0
