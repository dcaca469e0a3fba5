"""Connecting an org to a sandboxed provider and running sync jobs, for the sync tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.sandbox import Sandbox
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.records import RecordRepository
from storage.repositories.syncs import SyncRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from workers.inprocess import run_until_idle

#: Account identifiers (and config) each sandboxed provider's connection needs.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "hubspot": {"account": {"portal_id": "62515"}},
    "shopify": {"account": {"shop": "mystore"}},
    "salesforce": {"account": {"instance_host": "mycompany.my.salesforce.com"}},
    "stripe": {"account": {}},
    "google_calendar": {"account": {}},
    "quickbooks": {"account": {"realm_id": "9130347596424586"}},
    "calendly": {"account": {"organization": "AAAAAAAAAAAAAAAA"}},
    "airtable": {"account": {"base_id": "appABCDEFGHIJKLMN"}, "config": {"table": "Contacts"}},
    "klaviyo": {"account": {"company_id": "ABC123"}},
    "square": {"account": {"merchant_id": "ML6Y9ZYNZEA6C"}},
    "mailchimp": {"account": {"dc": "us6"}, "config": {"list_id": "L1"}},
    "pipedrive": {"account": {"company_domain": "mycompany"}},
}

#: Every provider gets a high rate limit of our own, so tests never wait on the limiter.
HIGH_LIMITS: dict[str, Any] = {
    name: {"rate_limit": {"limit": 10_000, "period_seconds": 1, "burst": 10_000}}
    for name in ACCOUNTS
}


@dataclass(frozen=True)
class Connected:
    """An org connected to one provider."""

    org_id: str
    connection_id: str
    provider: str


def connect(
    rt: Runtime,
    provider: str,
    sandbox: Sandbox | None = None,
    config: dict[str, Any] | None = None,
) -> Connected:
    """A new org with a connection to ``provider`` holding a credential the sandbox accepts."""
    sandbox = sandbox or rt.sandbox
    assert sandbox is not None
    spec = rt.catalog.get(provider)
    wanted = ACCOUNTS[provider] | ({"config": config} if config is not None else {})
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("sync")).id
        conn = ConnectionRepository(session, org).create(
            provider, account_identifier=wanted["account"], config=wanted.get("config")
        )
        credentials = CredentialRepository(session, org, rt.keyring)
        if spec.auth.mode in ("oauth2_code", "oauth2_client_credentials"):
            token = sandbox.issue_token(provider)
            credentials.store(
                conn.id,
                auth_mode=spec.auth.mode,
                access_token=token.access_token,
                refresh_token=token.refresh_token,
            )
        elif spec.auth.mode == "api_key":
            secret = sandbox.profiles[provider].static_secret
            credentials.store(conn.id, auth_mode="api_key", api_key=secret)
        return Connected(org, conn.id, provider)


def sync_job(c: Connected, model: str, mode: str = "incremental", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "sync",
        "org_id": c.org_id,
        "provider": c.provider,
        "payload": {"model": model, "mode": mode},
        **extra,
    }


def run_sync_job(rt: Runtime, c: Connected, model: str, mode: str = "incremental") -> None:
    """Enqueue one sync job and run workers until it is done."""
    rt.enqueuer.enqueue(sync_job(c, model, mode))
    run_until_idle(rt.worker_broker, rt.lanes, threads=2)


def stored_ids(rt: Runtime, c: Connected, model: str) -> set[str]:
    with rt.sessions() as session:
        return RecordRepository(session, c.org_id).external_ids(c.connection_id, model)


def last_run(rt: Runtime, c: Connected, model: str) -> Any:
    with rt.sessions() as session:
        runs = SyncRepository(session, c.org_id).runs(connection_id=c.connection_id, model=model)
        session.expunge_all()
        return runs[0] if runs else None
