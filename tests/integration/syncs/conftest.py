"""Fixtures of the sync tests: runtimes whose provider calls go to an in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime
from tests.integration.syncs.helpers import HIGH_LIMITS


@pytest.fixture(params=["embedded", "servers"])
def synced(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime on SQLite+fakeredis, then on PostgreSQL+Redis, with its own sandbox."""
    yield from sandboxed_runtime(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH_LIMITS,
        max_retries=2,
    )


@pytest.fixture
def pg_synced(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """Like ``synced``, on PostgreSQL and Redis only."""
    yield from sandboxed_runtime(
        backend="servers",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH_LIMITS,
        max_retries=2,
    )
