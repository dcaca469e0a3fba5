"""An API client on the runtime, two orgs with a key each and an admin key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.integration.credentials.api_helpers import org_keys
from workers.inprocess import run_until_idle


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime: Runtime) -> dict[str, str]:
    return org_keys(runtime)


def noop(**extra: Any) -> dict[str, Any]:
    return {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}, **extra}


def drain(runtime: Runtime) -> None:
    """Run worker threads until no work is left (their state writes are flushed at stop)."""
    run_until_idle(runtime.worker_broker, runtime.lanes, threads=4, timeout_s=30)
