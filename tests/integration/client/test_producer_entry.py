"""The in-process producer for apps sharing the deployment: Redis and the database, no key ring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import producers
from storage.errors import KeyRingError
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, bootstrap_producer
from tests.conftest import runtime_settings, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def producer(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    settings = runtime_settings(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request
    )
    without_keys = settings.model_copy(
        update={"security": settings.security.model_copy(update={"encryption_keys": []})}
    )
    runtime = bootstrap_producer(without_keys)
    yield runtime
    producers.configure(None)
    runtime.close()


def test_producer_enqueues_without_the_key_ring(producer: Runtime) -> None:
    """bootstrap_producer() needs no key ring: typed enqueue and enqueue_many work by org
    name, and the runtime refuses to encrypt rather than use a key it does not have."""
    name = unique("app")
    with producer.sessions.begin() as session:
        OrganizationRepository(session).create(name)
    one = producers.enqueue(
        kind="action", org_id=name, provider="slack", payload={"action": "noop"}
    )
    many = producers.enqueue_many(
        [{"kind": "action", "org_id": name, "provider": "slack", "payload": {"action": "noop"}}] * 3
    )
    assert not one.duplicate and len(many) == 3
    assert producer.lanes.depth("action").laned == 4
    with pytest.raises(KeyRingError):
        producer.keyring.encrypt("x", associated_data="y")
