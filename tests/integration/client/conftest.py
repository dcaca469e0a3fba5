"""The live API for client tests: uvicorn on a loopback port, real Redis + PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.live_api import live_runtime, served


@dataclass(frozen=True)
class Live:
    base: str
    runtime: Runtime
    org_id: str
    org_name: str
    org_key: str
    admin_key: str


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """The API served by uvicorn (provider calls to the in-process sandbox), an org with a
    key, and an admin key."""
    runtime = live_runtime(request, tmp_path_factory, "client")
    name = unique("client")
    with runtime.sessions.begin() as session:
        org_id = OrganizationRepository(session).create(name).id
        keys = ApiKeyRepository(session)
        org_key, admin_key = (
            keys.create(org_id, "c").key.reveal(),
            keys.create(None, "a").key.reveal(),
        )
    with served(runtime) as base:
        yield Live(base, runtime, org_id, name, org_key, admin_key)
    runtime.close()
