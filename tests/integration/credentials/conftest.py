"""Runtimes whose provider calls go to an in-process sandbox, on both backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from switchyard.api.app import create_app
from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime
from tests.integration.credentials.api_helpers import org_keys

HIGH = {
    name: {"rate_limit": {"limit": 100_000, "period_seconds": 1, "burst": 100_000}}
    for name in ("hubspot", "quickbooks")
}


@pytest.fixture(params=["embedded", "servers"])
def sandboxed(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime whose provider calls (token endpoint included) go to an in-process sandbox."""
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
    caplog.set_level(logging.INFO, logger="switchyard")
    caplog.set_level(logging.DEBUG, logger="switchyard.jobs")  # "job succeeded" is DEBUG
    yield caplog


@pytest.fixture
def client(sandboxed: Runtime) -> Iterator[TestClient]:
    """An API client on the sandboxed runtime."""
    with TestClient(create_app(sandboxed)) as test_client:
        yield test_client


@pytest.fixture
def keys(sandboxed: Runtime) -> dict[str, str]:
    """Two orgs' API keys and ids (``a``, ``key_a``, ``b``, ``key_b``...)."""
    return org_keys(sandboxed)
