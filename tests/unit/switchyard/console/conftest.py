"""The console's test app: an embedded runtime (fakeredis, SQLite) and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from switchyard.api.app import create_app
from switchyard.runtime import Runtime


@pytest.fixture
def rt(embedded_runtime_with: object) -> Runtime:
    return embedded_runtime_with()  # type: ignore[operator, no-any-return]


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as test_client:
        yield test_client
