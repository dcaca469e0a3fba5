"""Connections with sandbox-issued tokens, and ways to look at what happened to them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from providers.sandbox import Sandbox
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.events import EventRepository
from storage.repositories.organizations import OrganizationRepository
from storage.types import utcnow
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.log_records import job_events

ACCOUNTS = {"hubspot": {"portal_id": "62515"}, "quickbooks": {"realm_id": "4620816365"}}
PATHS = {"hubspot": "/crm/v3/objects/contacts", "quickbooks": "/companyinfo/4620816365"}


def connect(
    rt: Runtime,
    provider: str = "hubspot",
    *,
    expires_in: float | None = 3600,
    access_token: str | None = None,
    org: str | None = None,
    sandbox: Sandbox | None = None,
    name: str = "default",
) -> tuple[str, str]:
    """(org id, connection id) of a connection holding a sandbox-issued token pair.

    ``expires_in`` is what *we* store as the expiry (the sandbox's own token lives an hour),
    so a token "about to expire" is still accepted by the provider.
    """
    sandbox = sandbox or rt.sandbox
    assert sandbox is not None
    token = sandbox.issue_token(provider)
    with rt.sessions.begin() as session:
        org = org or OrganizationRepository(session).create(unique("org")).id
        conn = ConnectionRepository(session, org).create(
            provider, name=name, account_identifier=ACCOUNTS[provider]
        )
        CredentialRepository(session, org, rt.keyring).store(
            conn.id,
            auth_mode="oauth2_code",
            access_token=access_token or token.access_token,
            refresh_token=token.refresh_token,
            expires_at=None if expires_in is None else utcnow() + timedelta(seconds=expires_in),
        )
        return org, conn.id


def credential(rt: Runtime, org: str, connection_id: str) -> DecryptedCredential:
    with rt.sessions() as session:
        return CredentialRepository(session, org, rt.keyring).load(connection_id)


def connection_status(rt: Runtime, org: str, connection_id: str) -> tuple[str, str | None]:
    with rt.sessions() as session:
        row = ConnectionRepository(session, org).get(connection_id)
        return row.status, row.error_message


def proxy_job(org: str, provider: str = "hubspot") -> dict[str, Any]:
    payload = {"action": "proxy", "input": {"path": PATHS[provider]}}
    return {"kind": "action", "org_id": org, "provider": provider, "payload": payload}


def refresh_job(org: str, provider: str = "hubspot", *, force: bool = False) -> dict[str, Any]:
    return {"kind": "refresh", "org_id": org, "provider": provider, "payload": {"force": force}}


def dead(rt: Runtime, org: str) -> list[Any]:
    with rt.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


def event_types(rt: Runtime, org: str) -> list[str]:
    with rt.sessions() as session:
        return [e.type for e in EventRepository(session, org).list()]


def outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return job_events(caplog.records)
