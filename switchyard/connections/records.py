"""Saving, showing and disconnecting connections, with their audit trail and events.

Every connect and disconnect is written to the org's audit trail in the same transaction
as the change, and announced as ``integration.connected`` / ``integration.disconnected``
once committed. Views never carry a secret: only which secrets are stored, the expiry and
the scopes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Connection
from storage.repositories.audit import AuditRepository
from storage.repositories.checks import SLUG_PATTERN
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from switchyard.app import Runtime
from switchyard.connections.errors import ConnectError, not_found

log = logging.getLogger("switchyard.connections")


@dataclass(frozen=True)
class NewCredential:
    """What a connect flow obtained; None for modes whose secrets live in settings."""

    auth_mode: str
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def save_connection(
    runtime: Runtime,
    org_id: str,
    provider: str,
    *,
    name: str,
    account: Mapping[str, str],
    credential: NewCredential | None,
    actor: str,
) -> dict[str, Any]:
    """Create the connection, or reconnect an existing one (status back to connected)."""
    with runtime.sessions.begin() as session:
        connections = ConnectionRepository(session, org_id)
        try:
            row = connections.get_by_provider(provider, name)
            connections.update(row.id, account_identifier=dict(account))
            connections.set_status(row.id, "connected")
        except NotFoundError:
            row = connections.create(provider, name=name, account_identifier=dict(account))
        stored = _store(session, runtime, org_id, row.id, credential)
        audit = AuditRepository(session, org_id).record(
            actor,
            "connection.connected",
            subject_type="connection",
            subject_id=row.id,
            details={"provider": provider, "name": name, "auth_mode": _mode(credential)},
        )
        view = connection_view(row, stored)
    _announce(runtime, org_id, "integration.connected", view, audit.id)
    return view


def disconnect(runtime: Runtime, org_id: str, connection_id: str, *, actor: str) -> dict[str, Any]:
    """Mark the connection disconnected and forget its secrets; its jobs then park."""
    with runtime.sessions.begin() as session:
        connections = ConnectionRepository(session, org_id)
        row = _get(connections, connection_id)
        credentials = CredentialRepository(session, org_id, runtime.keyring)
        with contextlib.suppress(NotFoundError):
            credentials.delete(row.id)
        connections.set_status(row.id, "disconnected")
        audit = AuditRepository(session, org_id).record(
            actor,
            "connection.disconnected",
            subject_type="connection",
            subject_id=row.id,
            details={"provider": row.provider, "name": row.name},
        )
        view = connection_view(row, None)
    _announce(runtime, org_id, "integration.disconnected", view, audit.id)
    return view


def validated_name(name: Any) -> str:
    """A connection name: lower-case slug, as the storage layer requires."""
    if not isinstance(name, str) or not SLUG_PATTERN.fullmatch(name):
        raise ConnectError("name", "must be a lower-case slug of at most 64 characters")
    return name


def list_connections(
    runtime: Runtime, org_id: str, *, provider: str | None = None
) -> list[dict[str, Any]]:
    """The org's connections, without secrets."""
    with runtime.sessions() as session:
        credentials = CredentialRepository(session, org_id, runtime.keyring)
        return [
            connection_view(row, _maybe(credentials, row.id))
            for row in ConnectionRepository(session, org_id).list(provider=provider)
        ]


def show_connection(runtime: Runtime, org_id: str, connection_id: str) -> dict[str, Any]:
    """One connection of the org, without secrets (404 when it is not the org's)."""
    with runtime.sessions() as session:
        row = _get(ConnectionRepository(session, org_id), connection_id)
        credentials = CredentialRepository(session, org_id, runtime.keyring)
        return connection_view(row, _maybe(credentials, row.id))


def connection_view(row: Connection, stored: DecryptedCredential | None) -> dict[str, Any]:
    """What callers may see of a connection: never a secret."""
    view: dict[str, Any] = {
        "id": row.id,
        "org_id": row.org_id,
        "provider": row.provider,
        "name": row.name,
        "status": row.status,
        "error_message": row.error_message,
        "account_identifier": dict(row.account_identifier or {}),
        "last_synced_at": _iso(row.last_synced_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "credential": None,
    }
    if stored is not None:
        view["credential"] = {
            "auth_mode": stored.auth_mode,
            "version": stored.version,
            "expires_at": _iso(stored.expires_at),
            "scopes": list(stored.scopes),
            "has_refresh_token": stored.refresh_token is not None,
        }
    return view


def _store(
    session: Session,
    runtime: Runtime,
    org_id: str,
    connection_id: str,
    credential: NewCredential | None,
) -> DecryptedCredential | None:
    repo = CredentialRepository(session, org_id, runtime.keyring)
    if credential is None:
        with contextlib.suppress(NotFoundError):
            repo.delete(connection_id)  # a mode without stored secrets: drop stale ones
        return None
    return repo.store(
        connection_id,
        auth_mode=credential.auth_mode,
        access_token=credential.access_token,
        refresh_token=credential.refresh_token,
        api_key=credential.api_key,
        secret=credential.secret,
        expires_at=credential.expires_at,
        scopes=credential.scopes,
        extra=credential.extra,
    )


def _announce(
    runtime: Runtime,
    org_id: str,
    type_: str,
    view: Mapping[str, Any],
    audit_id: str,
) -> None:
    """Publish the event once committed, keyed by the audit entry it reports."""
    data = {"connection_id": view["id"], "provider": view["provider"], "name": view["name"]}
    try:
        runtime.event_publisher.publish(
            org_id, type_, data, source="system", idempotency_key=f"{type_}:{audit_id}"
        )
    except Exception:  # committed already; an event outage must not undo the connect
        log.exception("could not publish %s for connection %s", type_, view["id"])


def _get(connections: ConnectionRepository, connection_id: str) -> Connection:
    try:
        return connections.get(connection_id)
    except NotFoundError:
        raise not_found("connection", connection_id) from None


def _maybe(repo: CredentialRepository, connection_id: str) -> DecryptedCredential | None:
    try:
        return repo.load(connection_id)
    except NotFoundError:
        return None


def _mode(credential: NewCredential | None) -> str | None:
    return credential.auth_mode if credential is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


__all__ = [
    "ConnectError",
    "NewCredential",
    "connection_view",
    "disconnect",
    "list_connections",
    "save_connection",
    "show_connection",
    "validated_name",
]
