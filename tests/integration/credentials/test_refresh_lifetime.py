"""Tokens living less than the catalog's refresh margin: refreshed once per lifetime, with
the margin capped at a fraction of the ``expires_in`` the provider returned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from providers.sandbox import Sandbox
from providers.sandbox.profile import TokenPolicy
from providers.sandbox.profiles.crm import HubSpot
from storage.models import Credential
from storage.types import utcnow
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.credentials.conftest import HIGH
from tests.integration.credentials.helpers import connect, credential, dead, proxy_job
from workers.inprocess import run_until_idle

CONNECTIONS = 5
JOBS_EACH = 20


class MinuteHubSpot(HubSpot):
    """HubSpot issuing 60 s access tokens: shorter than the catalog's 300 s margin."""

    token = TokenPolicy(lifetime=60, rotates=False)


@pytest.fixture(params=["embedded", "servers"])
def minute(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    settings = runtime_settings(
        backend=request.param,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=HIGH,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1, profiles=[MinuteHubSpot()]))
    yield rt
    rt.close()


def age(rt: Runtime, org: str, connection_id: str, *, left: float, lifetime: int) -> None:
    """Make the stored token one that lived ``lifetime`` s and has ``left`` s to go."""
    with rt.sessions.begin() as session:
        session.execute(
            update(Credential)
            .where(Credential.org_id == org, Credential.connection_id == connection_id)
            .values(expires_at=utcnow() + timedelta(seconds=left), lifetime_seconds=lifetime)
        )


def test_sixty_second_tokens_refresh_once_per_expiry_not_per_job(minute: Runtime) -> None:
    """5 connections x 20 jobs, each 60 s token 20 s from expiry: 5 token calls, not 100."""
    assert minute.sandbox is not None
    org = None
    connections = []
    for n in range(CONNECTIONS):
        org, conn = connect(minute, org=org, name=f"c{n}", expires_in=60)
        age(minute, org, conn, left=20, lifetime=60)
        connections.append(conn)
    assert org is not None
    for n in range(CONNECTIONS):
        for _ in range(JOBS_EACH):
            minute.enqueuer.enqueue({**proxy_job(org), "connection": f"c{n}"})
    run_until_idle(minute.worker_broker, minute.lanes, timeout_s=60)
    assert dead(minute, org) == []
    assert minute.sandbox.token_calls("hubspot") == CONNECTIONS
    for conn in connections:
        renewed = credential(minute, org, conn)
        assert renewed.version == 2 and renewed.lifetime_seconds in (59, 60)


def test_token_with_more_than_its_capped_margin_left_is_used_as_is(minute: Runtime) -> None:
    """A 60 s token with 40 s left (margin capped at 30 s) is used without a refresh."""
    assert minute.sandbox is not None
    org, conn = connect(minute, expires_in=60)
    age(minute, org, conn, left=40, lifetime=60)
    for _ in range(5):
        minute.enqueuer.enqueue(proxy_job(org))
    run_until_idle(minute.worker_broker, minute.lanes, timeout_s=60)
    assert dead(minute, org) == [] and minute.sandbox.token_calls("hubspot") == 0
