"""Order of writes for rotating refresh tokens: a refresher SIGKILLed at each step leaves a
connection whose refresh token still works, or, killed after the provider rotated, one
that visibly needs a reconnect and whose retired token is never replayed (real PostgreSQL,
sandbox over HTTP)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.auth import BearerToken
from providers.client import ProviderClient
from providers.sandbox import Sandbox
from providers.sandbox.profile import TokenPolicy
from providers.sandbox.profiles.commerce import QuickBooks
from providers.sandbox.profiles.crm import HubSpot
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.credentials.helpers import ACCOUNTS, connect, connection_status, credential
from tests.integration.observability.processes import env_of
from tests.integration.served_sandbox import allowing_sandbox, sandbox_env, served
from workers.errors import ConnectionUnusable
from workers.token_refresh import RefreshTarget, refresh

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
REALM = ACCOUNTS["quickbooks"]["realm_id"]


class GraceQuickBooks(QuickBooks):
    """QuickBooks-style rotation with a reuse grace period, as Xero and Okta grant."""

    token = TokenPolicy(lifetime=3600, rotates=True, reuse_grace=600)


def served_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str, profile: QuickBooks
) -> Iterator[tuple[Runtime, Sandbox, str]]:
    sandbox = Sandbox(seed=1, profiles=[profile, HubSpot()])
    with served(sandbox) as root:
        settings = runtime_settings(
            backend="servers",
            tmp_path=tmp_path,
            namespace=namespace,
            request=request,
            providers=sandbox.overrides(root),
        )
        rt = build_runtime(allowing_sandbox(settings))
        yield rt, sandbox, root
        rt.close()


@pytest.fixture
def grace(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[tuple[Runtime, Sandbox, str]]:
    yield from served_runtime(request, tmp_path, namespace, GraceQuickBooks())


@pytest.fixture
def strict(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[tuple[Runtime, Sandbox, str]]:
    yield from served_runtime(request, tmp_path, namespace, QuickBooks())


def kill_refresh_at(
    rt: Runtime,
    sandbox: Sandbox,
    root: str,
    org: str,
    conn: str,
    step: str,
    provider: str = "quickbooks",
) -> None:
    """Run a refresh in a child process that SIGKILLs itself at ``step``."""
    module = "tests.integration.credentials.refresh_victim"
    result = subprocess.run(
        [sys.executable, "-m", module, org, conn, provider, step],
        env={**env_of(rt), **sandbox_env(sandbox, root)},
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]


def target(rt: Runtime, org: str, conn: str) -> RefreshTarget:
    return RefreshTarget(org, conn, "default", rt.catalog.get("quickbooks"), ACCOUNTS["quickbooks"])


def api_status(rt: Runtime, access_token: str) -> int:
    client = ProviderClient(
        rt.catalog.get("quickbooks"),
        ACCOUNTS["quickbooks"],
        BearerToken(access_token),
        policy=rt.outbound_policy,
    )
    try:
        return client.request("GET", f"/companyinfo/{REALM}").status_code
    finally:
        client.close()


@pytest.mark.parametrize(("step", "written"), [("locked", False), ("committed", True)])
def test_refresh_killed_outside_the_token_call_leaves_a_usable_refresh_token(
    grace: tuple[Runtime, Sandbox, str], step: str, written: bool
) -> None:
    """Killed before presenting the token, or after storing the new pair: the next refresh
    succeeds, presenting a token the provider never retired, and its token works."""
    rt, sandbox, root = grace
    org, conn = connect(rt, "quickbooks", sandbox=sandbox)
    before = credential(rt, org, conn)
    kill_refresh_at(rt, sandbox, root, org, conn, step)
    left = credential(rt, org, conn)
    assert (left.version == before.version + 1) is written
    assert (left.refresh_token != before.refresh_token) is written
    renewed = refresh(rt.worker_context, target(rt, org, conn), force=True)
    assert renewed.access_token is not None
    assert api_status(rt, renewed.access_token.reveal()) == 200
    assert connection_status(rt, org, conn) == ("connected", None)
    assert sandbox.token_calls("quickbooks") == (2 if written else 1)


@pytest.mark.parametrize("provider", ["grace", "strict"])
def test_refresh_killed_after_the_provider_rotated_never_replays_the_token(
    provider: str, request: pytest.FixtureRequest
) -> None:
    """Killed once the provider rotated, before the pair was stored: the next refresh does
    not present the retired token (with or without a reuse grace); the connection visibly
    needs a reconnect, and the provider was called once."""
    rt, sandbox, root = request.getfixturevalue(provider)
    org, conn = connect(rt, "quickbooks", sandbox=sandbox)
    kill_refresh_at(rt, sandbox, root, org, conn, "answered")
    with pytest.raises(ConnectionUnusable, match="interrupted"):
        refresh(rt.worker_context, target(rt, org, conn), force=True)
    status, reason = connection_status(rt, org, conn)
    assert status == "error" and reason is not None and "reconnect needed" in reason
    assert sandbox.token_calls("quickbooks") == 1
    with pytest.raises(ConnectionUnusable, match="error"):  # later jobs: no call either
        refresh(rt.worker_context, target(rt, org, conn), force=True)
    assert sandbox.token_calls("quickbooks") == 1


def test_a_provider_known_not_to_rotate_is_asked_again_after_a_kill(
    grace: tuple[Runtime, Sandbox, str],
) -> None:
    """HubSpot answered without rotating before: killed mid-refresh, its token is still
    valid, so the next refresh presents it and the connection stays connected."""
    rt, sandbox, root = grace
    org, conn = connect(rt, "hubspot", sandbox=sandbox)
    spec = rt.catalog.get("hubspot")
    hubspot = RefreshTarget(org, conn, "default", spec, ACCOUNTS["hubspot"])
    refresh(rt.worker_context, hubspot, force=True)  # learns: the token does not rotate
    kill_refresh_at(rt, sandbox, root, org, conn, "answered", provider="hubspot")
    renewed = refresh(rt.worker_context, hubspot, force=True)
    assert renewed.access_token is not None
    assert connection_status(rt, org, conn) == ("connected", None)
    assert sandbox.token_calls("hubspot") == 3
