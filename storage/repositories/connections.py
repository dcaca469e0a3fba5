"""Connections of one org; every query carries the org's id, so other orgs' rows are invisible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from storage.models import CONNECTION_STATUSES, Connection
from storage.repositories.checks import (
    SLUG_PATTERN,
    flush_unique,
    require_aware,
    require_choice,
    require_match,
)
from storage.types import utcnow

DEFAULT_CONNECTION_NAME = "default"


def _require_mapping(field: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidFieldError(field, "must be a mapping")
    return dict(value)


class ConnectionRepository:
    """Create, find and update the connections of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    @property
    def org_id(self) -> str:
        return self._org_id

    def create(
        self,
        provider: str,
        *,
        name: str = DEFAULT_CONNECTION_NAME,
        account_identifier: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        status: str = "connected",
    ) -> Connection:
        """Create a connection; (provider, name) is unique within the org."""
        require_match("provider", provider, SLUG_PATTERN)
        require_match("name", name, SLUG_PATTERN)
        require_choice("status", status, CONNECTION_STATUSES)
        key = f"{provider}/{name}"
        if self._find(provider, name) is not None:
            raise ConflictError("connection", "provider/name", key)
        connection = Connection(
            org_id=self._org_id,
            provider=provider,
            name=name,
            status=status,
            account_identifier=_require_mapping("account_identifier", account_identifier),
            config=_require_mapping("config", config),
        )
        self._session.add(connection)
        flush_unique(self._session, "connection", "provider/name", key)
        return connection

    def get(self, connection_id: str) -> Connection:
        """Return this org's connection with ``connection_id``."""
        connection = self._session.scalars(
            self._scoped().where(Connection.id == connection_id)
        ).one_or_none()
        if connection is None:
            raise NotFoundError("connection", connection_id)
        return connection

    def get_by_provider(self, provider: str, name: str = DEFAULT_CONNECTION_NAME) -> Connection:
        """Return this org's connection to ``provider`` named ``name``."""
        connection = self._find(provider, name)
        if connection is None:
            raise NotFoundError("connection", f"{provider}/{name}")
        return connection

    def list(self, *, provider: str | None = None) -> Sequence[Connection]:
        """Return this org's connections, optionally to one provider."""
        query = self._scoped().order_by(Connection.provider, Connection.name)
        if provider is not None:
            query = query.where(Connection.provider == provider)
        return self._session.scalars(query).all()

    def set_status(
        self, connection_id: str, status: str, *, error_message: str | None = None
    ) -> Connection:
        """Set the status; the error message is kept only for ``error``."""
        require_choice("status", status, CONNECTION_STATUSES)
        if status == "error" and not error_message:
            raise InvalidFieldError("error_message", "is required when status is 'error'")
        connection = self.get(connection_id)
        connection.status = status
        connection.error_message = error_message if status == "error" else None
        self._session.flush()
        return connection

    def update(
        self,
        connection_id: str,
        *,
        account_identifier: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Connection:
        """Replace the account identifier and/or config (a None argument leaves it as is)."""
        connection = self.get(connection_id)
        if account_identifier is not None:
            connection.account_identifier = _require_mapping(
                "account_identifier", account_identifier
            )
        if config is not None:
            connection.config = _require_mapping("config", config)
        self._session.flush()
        return connection

    def set_account_proof(
        self, connection_id: str, value: str | None, how: str | None, *, shared: bool = False
    ) -> Connection:
        """Record the routing account the provider proved (None: unproven, not routable).

        Raises :class:`ConflictError` when another connection holds the same proven account
        of this provider and sharing is not allowed (the unique index decides races).
        """
        connection = self.get(connection_id)
        connection.proven_account = value
        connection.account_proof = how if value is not None else None
        connection.account_shared = shared
        flush_unique(self._session, "connection", "proven account", value or "")
        return connection

    def mark_synced(self, connection_id: str, at: datetime | None = None) -> Connection:
        """Record the end of a successful sync."""
        connection = self.get(connection_id)
        connection.last_synced_at = require_aware("at", at) or utcnow()
        self._session.flush()
        return connection

    def delete(self, connection_id: str) -> None:
        """Delete the connection and, by cascade, its credential."""
        self._session.delete(self.get(connection_id))
        self._session.flush()

    def _scoped(self) -> Select[Connection]:
        return select(Connection).where(Connection.org_id == self._org_id)

    def _find(self, provider: str, name: str) -> Connection | None:
        return self._session.scalars(
            self._scoped().where(Connection.provider == provider, Connection.name == name)
        ).one_or_none()


def proven_account_holder(
    session: Session, provider: str, value: str, *, other_than: str | None = None
) -> Connection | None:
    """The connection (of any org) holding ``value`` as its proven, unshared account."""
    query = select(Connection).where(
        Connection.provider == provider,
        Connection.proven_account == value,
        Connection.account_shared.is_(False),
    )
    if other_than is not None:
        query = query.where(Connection.id != other_than)
    return session.scalars(query.limit(1)).first()


def find_connections_by_proven_account(
    session: Session, provider: str, value: str
) -> Sequence[Connection]:
    """Connections of any org whose proven routing account is ``value``.

    Deliberately unscoped, like :func:`find_connections_by_account`; only accounts the
    provider proved route, so an org typing another org's account id receives nothing.
    """
    query = select(Connection).where(
        Connection.provider == provider, Connection.proven_account == value
    )
    return session.scalars(query.order_by(Connection.created_at, Connection.id)).all()


def find_connections_by_account(
    session: Session, provider: str, account_identifier: Mapping[str, str]
) -> Sequence[Connection]:
    """Return connections of any org whose account identifier contains these pairs.

    Deliberately unscoped: an inbound webhook names a provider account (a shop, a
    portal id), not an org; this finds which org's connection it belongs to.
    """
    if not account_identifier:
        raise InvalidFieldError("account_identifier", "must name at least one key")
    query = select(Connection).where(Connection.provider == provider)
    for key, value in account_identifier.items():
        query = query.where(Connection.account_identifier[key].as_string() == value)
    return session.scalars(query.order_by(Connection.created_at, Connection.id)).all()
