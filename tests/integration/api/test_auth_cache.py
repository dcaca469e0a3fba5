"""The API's key cache: a revoked key stops working within the cache's lifetime, not later."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.api.auth import KeyCache, Principal
from switchyard.runtime import Runtime
from tests.conftest import unique

JOB = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(runtime: Runtime, clock: Clock) -> Iterator[TestClient]:
    app = create_app(runtime)
    app.state.key_cache = KeyCache(runtime.settings.api.auth_cache_seconds, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def issue_key(runtime: Runtime) -> tuple[str, str]:
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("cache")).id
        issued = ApiKeyRepository(session).create(org, "ci")
        return issued.api_key.id, issued.key.reveal()


def revoke(runtime: Runtime, key_id: str) -> None:
    with runtime.sessions.begin() as session:
        ApiKeyRepository(session).revoke(key_id)


def test_revoked_key_stops_working_within_the_cache_lifetime(
    runtime: Runtime, client: TestClient, clock: Clock
) -> None:
    """A key revoked after use works until its cache entry ends, and is refused after."""
    ttl = runtime.settings.api.auth_cache_seconds
    key_id, key = issue_key(runtime)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/jobs", json=JOB, headers=headers).status_code == 201
    revoke(runtime, key_id)
    clock.now += ttl - 0.1
    assert client.post("/v1/jobs", json=JOB, headers=headers).status_code == 201
    clock.now += 0.2
    assert client.post("/v1/jobs", json=JOB, headers=headers).status_code == 401


def test_a_new_key_works_at_once(runtime: Runtime, client: TestClient) -> None:
    """Unknown keys are not remembered: a key issued after a refused attempt works at once."""
    _, key = issue_key(runtime)
    assert client.post("/v1/jobs", json=JOB, headers={"X-API-Key": key + "x"}).status_code == 401
    assert client.post("/v1/jobs", json=JOB, headers={"X-API-Key": key}).status_code == 201


def test_cache_is_bounded_dropping_the_least_recently_used() -> None:
    """Past its size the cache forgets the entry used longest ago, keeping recent ones."""
    cache = KeyCache(60, max_entries=2)
    for name in ("a", "b"):
        cache.put(name, Principal(key_id=name, org_id=None))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", Principal(key_id="c", org_id=None))
    assert [cache.get(name) is not None for name in ("a", "b", "c")] == [True, False, True]


def test_zero_lifetime_caches_nothing() -> None:
    """With auth_cache_seconds=0 every request asks the database."""
    cache = KeyCache(0)
    cache.put("a", Principal(key_id="a", org_id=None))
    assert cache.get("a") is None
