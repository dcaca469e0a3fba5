"""A `switchyard worker` SIGKILLed during a slow rotating token call (real PostgreSQL and
Redis, a loopback OAuth server that rotates before it answers): what the kill costs."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.organizations import OrganizationRepository
from storage.types import utcnow
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings, unique
from tests.integration.credentials.helpers import (
    ACCOUNTS,
    connection_status,
    credential,
    refresh_job,
)
from tests.integration.credentials.rotating_oauth import RotatingOAuth, serving
from tests.integration.observability.processes import SWITCHYARD, env_of
from tests.integration.served_sandbox import allowing_sandbox
from workers.errors import ConnectionUnusable
from workers.token_refresh import RefreshTarget, refresh

pytestmark = [pytest.mark.integration, pytest.mark.slow]
APP = {"client_id": "kill-test-client", "client_secret": "kill-test-secret"}


@pytest.fixture(params=[600.0, 0.0], ids=["reuse_grace", "strict"])
def oauth(request: pytest.FixtureRequest) -> Iterator[RotatingOAuth]:
    with serving(RotatingOAuth(grace_seconds=request.param, delay_seconds=3.0)) as running:
        yield running


@pytest.fixture
def served(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str, oauth: RotatingOAuth
) -> Iterator[Runtime]:
    providers = {"quickbooks": {"token_url": oauth.url, **APP}}
    settings = runtime_settings(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request,
        providers=providers,
    )  # fmt: skip
    rt = build_runtime(allowing_sandbox(settings))
    yield rt
    rt.close()


def connected(rt: Runtime, refresh_token: str) -> tuple[str, str]:
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("kill")).id
        conn = ConnectionRepository(session, org).create(
            "quickbooks", account_identifier=ACCOUNTS["quickbooks"]
        )
        CredentialRepository(session, org, rt.keyring).store(
            conn.id,
            auth_mode="oauth2_code",
            access_token="at-initial",
            refresh_token=refresh_token,
            expires_at=utcnow() + timedelta(hours=1),
        )
        return org, conn.id


def worker(rt: Runtime, oauth: RotatingOAuth, log: Path) -> subprocess.Popen[bytes]:
    names = {"TOKEN_URL": oauth.url, "CLIENT_ID": APP["client_id"]}
    names["CLIENT_SECRET"] = APP["client_secret"]
    env = {f"SWITCHYARD_PROVIDERS__QUICKBOOKS__{k}": v for k, v in names.items()}
    return subprocess.Popen(
        [*SWITCHYARD, "worker", "-p", "1", "-t", "1", "-Q", "refresh"],
        env={**env_of(rt), **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_worker_killed_during_a_slow_rotating_refresh(
    served: Runtime, oauth: RotatingOAuth, tmp_path: Path
) -> None:
    """The provider rotated, then the worker died waiting 3 s for the answer: the pair is
    lost with it. The next refresh finds the interrupted intent and does not present the
    retired token (0 reuses, 0 refusals, with or without the provider's reuse grace): the
    connection goes to ``error``, reconnect needed, after one token call in all."""
    before = oauth.live
    org, conn = connected(served, before)
    served.enqueuer.enqueue({**refresh_job(org, "quickbooks", force=True)})
    process = worker(served, oauth, tmp_path / "worker.log")
    try:
        assert oauth.rotated.wait(90), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    left = credential(served, org, conn)
    assert left.refresh_token is not None and left.refresh_token.reveal() == before
    oauth.delay_seconds = 0.0
    target = RefreshTarget(
        org, conn, "default", served.catalog.get("quickbooks"), ACCOUNTS["quickbooks"]
    )
    with pytest.raises(ConnectionUnusable, match="interrupted"):
        refresh(served.worker_context, target, force=True)
    status, reason = connection_status(served, org, conn)
    print(
        f"\ngrace {oauth.grace_seconds:.0f}s: token calls {oauth.calls}, reuse of a retired "
        f"refresh token {oauth.reuses}, refused {oauth.refusals}, connection {status}"
    )
    assert (oauth.calls, oauth.reuses, oauth.refusals) == (1, 0, 0)
    assert status == "error" and reason is not None and "reconnect needed" in reason
