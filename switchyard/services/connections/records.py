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

from contract.metrics import CONNECTION_ACCOUNTS
from storage.errors import ConflictError, NotFoundError
from storage.models import Connection
from storage.repositories.audit import AuditRepository
from storage.repositories.checks import SLUG_PATTERN
from storage.repositories.connections import ConnectionRepository, proven_account_holder
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.errors import not_found
from switchyard.services.errors import Conflict, InvalidInput, field_error

log = logging.getLogger("switchyard.services.connections")


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


@dataclass(frozen=True)
class AccountProof:
    """What the provider said about the account (see :mod:`.identity`): the identifiers to
    save, how each proven one was learned, the proven routing value, and what is missing."""

    account: dict[str, str]
    proofs: dict[str, str]
    routing: str | None = None
    routing_value: str | None = None
    routing_proof: str | None = None
    missing: tuple[str, ...] = ()
    shared: bool = False

    def problem(self, provider: str) -> str | None:
        """Why the connection cannot be ``connected`` (a required identifier is missing)."""
        if not self.missing:
            return None
        names = ", ".join(repr(name) for name in self.missing)
        return (
            f"account identifier(s) {names} required by {provider} missing: the provider "
            "did not return them; reconnect, or supply them when connecting"
        )


def save_connection(
    deps: ConnectionDeps,
    org_id: str,
    provider: str,
    *,
    name: str,
    account: Mapping[str, str],
    credential: NewCredential | None,
    actor: str,
    proof: AccountProof | None = None,
) -> dict[str, Any]:
    """Create the connection, or reconnect an existing one.

    With a ``proof`` the status is ``connected`` only when no required identifier is
    missing (else ``error``, naming them), and the proven routing account is claimed:
    another connection holding it unshared is a 409.
    """
    account = proof.account if proof is not None else account
    problem = proof.problem(provider) if proof is not None else None
    with deps.sessions.begin() as session:
        connections = ConnectionRepository(session, org_id)
        try:
            row = connections.get_by_provider(provider, name)
            connections.update(row.id, account_identifier=dict(account))
        except NotFoundError:
            row = connections.create(provider, name=name, account_identifier=dict(account))
        connections.set_status(row.id, "error" if problem else "connected", error_message=problem)
        if proof is not None:
            _claim_account(session, connections, row, proof)
        stored = _store(session, deps, org_id, row.id, credential)
        audit = AuditRepository(session, org_id).record(
            actor,
            "connection.connected",
            subject_type="connection",
            subject_id=row.id,
            details={"provider": provider, "name": name, "auth_mode": _mode(credential)},
        )
        view = connection_view(row, stored)
    _announce(deps, org_id, "integration.connected", view, audit.id)
    return view


def _claim_account(
    session: Session, connections: ConnectionRepository, row: Connection, proof: AccountProof
) -> None:
    """Record the proven routing account, refusing one another connection holds unshared."""
    value = proof.routing_value
    holder = (
        proven_account_holder(session, row.provider, value, other_than=row.id)
        if value is not None and not proof.shared
        else None
    )
    refused = field_error(
        Conflict,
        f"account.{proof.routing}",
        "is already connected (and proven) by another connection; the operator may allow "
        f"shared accounts for {row.provider} (credentials.shared_account_providers)",
    )
    if holder is not None:
        CONNECTION_ACCOUNTS.labels(row.provider, "conflict").inc()
        raise refused
    try:
        connections.set_account_proof(row.id, value, proof.routing_proof, shared=proof.shared)
    except ConflictError:
        CONNECTION_ACCOUNTS.labels(row.provider, "conflict").inc()
        raise refused from None
    outcome = "missing" if proof.missing else "proven" if value is not None else "unproven"
    CONNECTION_ACCOUNTS.labels(row.provider, outcome).inc()


def disconnect(
    deps: ConnectionDeps, org_id: str, connection_id: str, *, actor: str
) -> dict[str, Any]:
    """Mark the connection disconnected and forget its secrets; its jobs then park.

    Its proven account is released too: the account's owner may connect it elsewhere, and
    reconnecting proves it again.
    """
    with deps.sessions.begin() as session:
        connections = ConnectionRepository(session, org_id)
        row = _get(connections, connection_id)
        credentials = CredentialRepository(session, org_id, deps.keyring)
        with contextlib.suppress(NotFoundError):
            credentials.delete(row.id)
        connections.set_status(row.id, "disconnected")
        connections.set_account_proof(row.id, None, None)
        audit = AuditRepository(session, org_id).record(
            actor,
            "connection.disconnected",
            subject_type="connection",
            subject_id=row.id,
            details={"provider": row.provider, "name": row.name},
        )
        view = connection_view(row, None)
    _announce(deps, org_id, "integration.disconnected", view, audit.id)
    return view


def validated_name(name: Any) -> str:
    """A connection name: lower-case slug, as the storage layer requires."""
    if not isinstance(name, str) or not SLUG_PATTERN.fullmatch(name):
        raise field_error(
            InvalidInput, "name", "must be a lower-case slug of at most 64 characters"
        )
    return name


def list_connections(
    deps: ConnectionDeps, org_id: str, *, provider: str | None = None
) -> list[dict[str, Any]]:
    """The org's connections, without secrets."""
    with deps.sessions() as session:
        credentials = CredentialRepository(session, org_id, deps.keyring)
        return [
            connection_view(row, _maybe(credentials, row.id))
            for row in ConnectionRepository(session, org_id).list(provider=provider)
        ]


def show_connection(deps: ConnectionDeps, org_id: str, connection_id: str) -> dict[str, Any]:
    """One connection of the org, without secrets (404 when it is not the org's)."""
    with deps.sessions() as session:
        row = _get(ConnectionRepository(session, org_id), connection_id)
        credentials = CredentialRepository(session, org_id, deps.keyring)
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
        "account_proof": (
            {"value": row.proven_account, "how": row.account_proof}
            if row.proven_account is not None
            else None
        ),
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
    deps: ConnectionDeps,
    org_id: str,
    connection_id: str,
    credential: NewCredential | None,
) -> DecryptedCredential | None:
    repo = CredentialRepository(session, org_id, deps.keyring)
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
    deps: ConnectionDeps,
    org_id: str,
    type_: str,
    view: Mapping[str, Any],
    audit_id: str,
) -> None:
    """Publish the event once committed, keyed by the audit entry it reports."""
    data = {"connection_id": view["id"], "provider": view["provider"], "name": view["name"]}
    try:
        deps.publish(org_id, type_, data, source="system", idempotency_key=f"{type_}:{audit_id}")
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
    "AccountProof",
    "NewCredential",
    "connection_view",
    "disconnect",
    "list_connections",
    "save_connection",
    "show_connection",
    "validated_name",
]
