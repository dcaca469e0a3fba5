"""Fixtures of the sync tests: runtimes whose provider calls go to an in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.sandbox import Sandbox
from switchyard.app import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.syncs.helpers import HIGH_LIMITS


@pytest.fixture(params=["embedded", "servers"])
def synced(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime on SQLite+fakeredis, then on PostgreSQL+Redis, with its own sandbox."""
    settings = runtime_settings(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH_LIMITS,
        max_retries=2,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1))
    yield rt
    rt.close()


@pytest.fixture
def pg_synced(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """Like ``synced``, on PostgreSQL and Redis only."""
    settings = runtime_settings(
        backend="servers",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH_LIMITS,
        max_retries=2,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1))
    yield rt
    rt.close()
