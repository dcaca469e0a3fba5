"""Workers SIGKILLed every few seconds while short-lived tokens of many connections are
refreshed against a provider that rotates refresh tokens (with a reuse grace): what the
kills cost in token reuse (none: an interrupted rotation is never replayed), connections
left needing a reconnect (one per rotation a kill interrupted) and jobs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.organizations import OrganizationRepository
from storage.types import utcnow
from tests.chaos.servers import wait_until
from tests.chaos.stack import Stack, full_size
from tests.integration.credentials.rotating_oauth import RotatingOAuth, serving

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
PROVIDER = "quickbooks"  # OAuth2 code grant; Intuit rotates the refresh token on refresh
LIFETIME_S = 6  # refreshed about every 3 s per connection in use (margin: half the lifetime)
GRACE_S = 600.0


@pytest.fixture
def oauth() -> Iterator[RotatingOAuth]:
    rotating = RotatingOAuth(grace_seconds=GRACE_S, delay_seconds=1.0, lifetime=LIFETIME_S)
    with serving(rotating) as running:
        yield running


def pointed_at(stack: Stack, oauth: RotatingOAuth) -> None:
    """The provider's token endpoint and API on the stack's allowed loopback, with limits that never hold a job back (the kills are what is measured)."""
    prefix = f"SWITCHYARD_PROVIDERS__{PROVIDER.upper()}__"
    stack.env.update(
        {
            prefix + "TOKEN_URL": oauth.url,
            prefix + "CLIENT_ID": "chaos-client",
            prefix + "CLIENT_SECRET": "chaos-secret",
            prefix + "BASE_URL": f"http://{stack.stand_in.host}/v3/company/{{realm_id}}",
            prefix + "RATE_LIMIT__LIMIT": "100000",
            prefix + "RATE_LIMIT__PERIOD_SECONDS": "1",
            prefix + "RATE_LIMIT__BURST": "100000",
            prefix + "RATE_LIMIT__CONCURRENCY": "1000",
        }
    )


def oauth_connections(stack: Stack, oauth: RotatingOAuth, count: int) -> dict[str, str]:
    """``count`` organizations, each with a connection whose token expires at once and whose
    refresh token starts a token family of its own; {org id: connection id}."""
    made = {}
    with stack.rt.sessions.begin() as session:
        for _ in range(count):
            org = OrganizationRepository(session).create("chaos-" + uuid.uuid4().hex[:8]).id
            realm = str(uuid.uuid4().int % 10**10)
            conn = ConnectionRepository(session, org).create(
                PROVIDER, account_identifier={"realm_id": realm}
            )
            CredentialRepository(session, org, stack.rt.keyring).store(
                conn.id,
                auth_mode="oauth2_code",
                access_token="at-initial",
                refresh_token=oauth.issue(),
                expires_at=utcnow() + timedelta(seconds=1),
            )
            made[org] = conn.id
    return made


VICTIM_THREADS = 8


def errors(stack: Stack, connections: dict[str, str]) -> list[str]:
    """The reasons of the connections left in ``error``."""
    with stack.rt.sessions() as session:
        rows = [ConnectionRepository(session, org).get(conn) for org, conn in connections.items()]
    return [row.error_message or "" for row in rows if row.status == "error"]


def test_killed_refreshes_never_replay_a_rotated_token(stack: Stack, oauth: RotatingOAuth) -> None:
    """Workers SIGKILLed during rotating refreshes: no retired refresh token is presented
    again (0 reuses, 0 refusals); a connection whose rotation a kill interrupted needs a
    reconnect, saying so; every accepted job ran or was dead-lettered."""
    count, jobs, kills, every_s = (20, 2_000, 8, 3.0) if full_size() else (10, 500, 5, 3.0)
    pointed_at(stack, oauth)
    connections = oauth_connections(stack, oauth, count)
    orgs = list(connections)
    for index in range(jobs):
        stack.enqueue(orgs[index % count], delay_ms=400, provider=PROVIDER)
    steady = stack.worker("steady")
    victim = stack.worker("victim", threads=VICTIM_THREADS)
    wait_until(lambda: sum(stack.stand_in.counts().values()) > 0, 60, "first job ran")
    during_rotation = 0
    for _ in range(kills):
        time.sleep(every_s)
        oauth.rotated.clear()
        # the provider has rotated and answers 1 s later: a kill now may lose the new pair
        during_rotation += oauth.rotated.wait(every_s)
        stack.kill(victim)
        victim = stack.worker("victim", threads=VICTIM_THREADS)
    report = stack.settle("sigkill_during_refreshes", timeout=240)
    reasons = errors(stack, connections)
    report.extra.update(
        connections=count,
        kills=kills,
        kills_during_a_rotation=during_rotation,
        token_calls=oauth.calls,
        token_reuses=oauth.reuses,
        token_refusals=oauth.refusals,
        connections_in_error=len(reasons),
        reuse_grace_s=GRACE_S,
    )
    report.save()
    assert steady.poll() is None, stack.log_tail("steady")
    assert report.lost == [], f"{len(report.lost)} lost; {stack.log_tail('victim')}"
    assert during_rotation > 0, "no kill landed while a rotation was being answered"
    assert (oauth.reuses, oauth.refusals) == (0, 0), report.line()
    assert all("interrupted" in reason for reason in reasons), reasons
    # a kill interrupts at most the refreshes its victim's threads had in flight
    assert len(reasons) <= kills * VICTIM_THREADS, report.line()
