"""Unit tests run on no external service: a unit test asking for a fixture that reaches a
real Redis, Redis Cluster or PostgreSQL (directly, or as one of its parameters) is refused at
collection. Such a test belongs in ``tests/integration/`` (or ``tests/e2e/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT = Path(__file__).parent
# The fixtures that connect to a server, or are parametrised over one (any_redis: redis and
# cluster; runtime and its org_id: servers; db_url and its session: postgresql).
SERVICE_FIXTURES = frozenset(
    {
        "redis_url",
        "real_redis",
        "any_redis",
        "redis_cluster",
        "redis_cluster_servers",
        "runtime",
        "server_runtime",
        "pg_url",
        "pg_engine",
        "db_url",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fail the run naming each unit test that needs a real service, and the fixture."""
    misplaced = [
        f"{item.nodeid} (uses {', '.join(sorted(SERVICE_FIXTURES & set(names)))})"
        for item in items
        if item.path.is_relative_to(UNIT)
        and SERVICE_FIXTURES & set(names := getattr(item, "fixturenames", ()))
    ]
    if misplaced:
        raise pytest.UsageError(
            "unit tests must not use real services; move them to tests/integration: "
            + "; ".join(misplaced)
        )
