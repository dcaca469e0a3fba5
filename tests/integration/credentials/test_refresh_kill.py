"""Order of writes for rotating refresh tokens: a refresher SIGKILLed at each step leaves a
connection whose refresh token still works (real PostgreSQL, sandbox over HTTP)."""

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
from switchyard.app import Runtime, build_runtime
from tests.conftest import runtime_settings
from tests.integration.credentials.helpers import ACCOUNTS, connect, connection_status, credential
from tests.integration.observability.processes import env_of
from tests.integration.served_sandbox import allowing_sandbox, sandbox_env, served
from workers.errors import ConnectionUnusable
from workers.refresh import RefreshTarget, refresh

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
    rt: Runtime, sandbox: Sandbox, root: str, org: str, conn: str, step: str
) -> None:
    """Run a refresh in a child process that SIGKILLs itself at ``step``."""
    module = "tests.integration.credentials.refresh_victim"
    result = subprocess.run(
        [sys.executable, "-m", module, org, conn, "quickbooks", step],
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


@pytest.mark.parametrize(
    ("step", "written", "calls"),
    [("locked", False, 1), ("answered", False, 2), ("committed", True, 2)],
)
def test_refresh_killed_at_each_step_leaves_a_usable_refresh_token(
    grace: tuple[Runtime, Sandbox, str], step: str, written: bool, calls: int
) -> None:
    """Whatever step the refresher dies at, the next refresh succeeds and its token works."""
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
    # the victim's call (unless killed before it) and the survivor's; after a death at
    # ``answered`` the survivor replays the old token within the grace period
    assert sandbox.token_calls("quickbooks") == calls


def test_refresh_killed_after_a_strict_rotation_breaks_the_connection_visibly(
    strict: tuple[Runtime, Sandbox, str],
) -> None:
    """Strict rotation, killed after the answer: the next refresh marks the connection error."""
    # No client can save a pair it never wrote; without the provider's reuse grace the
    # connection must visibly need a reconnect rather than retry for ever.
    rt, sandbox, root = strict
    org, conn = connect(rt, "quickbooks", sandbox=sandbox)
    kill_refresh_at(rt, sandbox, root, org, conn, "answered")
    with pytest.raises(ConnectionUnusable, match="invalid_grant"):
        refresh(rt.worker_context, target(rt, org, conn), force=True)
    status, reason = connection_status(rt, org, conn)
    assert status == "error" and reason is not None and "reconnect" in reason
