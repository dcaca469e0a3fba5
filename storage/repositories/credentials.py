"""Credentials of one org's connections, encrypted at rest and handed out as ``Secret``s.

Token refreshes are fenced by ``version``: a refresher reads the credential (under a row
lock on PostgreSQL), calls the provider, then writes with the version it read. If another
worker refreshed meanwhile the write fails with ``StaleVersionError`` and the loser reloads
the winner's tokens, so a rotating refresh token is never overwritten by a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from storage.crypto import KeyRing, Secret
from storage.errors import InvalidFieldError, NotFoundError, StaleVersionError
from storage.models import CREDENTIAL_SECRET_FIELDS, Connection, Credential
from storage.repositories.checks import require_aware, require_text
from storage.types import utcnow

MAX_LIFETIME_SECONDS = 366 * 86_400
"""Longer lifetimes are stored as this (a year: no margin cap binds that far out)."""


def associated_data(org_id: str, connection_id: str, field_name: str) -> str:
    """Context a secret is bound to: its ciphertext decrypts only in this place."""
    return f"switchyard:credential:{org_id}:{connection_id}:{field_name}"


@dataclass(frozen=True, slots=True)
class DecryptedCredential:
    """A credential with its secrets decrypted; each secret masks itself when printed."""

    connection_id: str
    auth_mode: str
    version: int
    access_token: Secret | None = None
    refresh_token: Secret | None = None
    api_key: Secret | None = None
    secret: Secret | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    lifetime_seconds: int | None = None
    """How long the access token lived when a refresh stored it (None: unknown, or no expiry)."""


class CredentialRepository:
    """Store and load the encrypted credentials of the org given at construction."""

    def __init__(self, session: Session, org_id: str, keyring: KeyRing) -> None:
        self._session = session
        self._org_id = org_id
        self._keyring = keyring

    @property
    def org_id(self) -> str:
        return self._org_id

    def store(
        self,
        connection_id: str,
        *,
        auth_mode: str,
        access_token: str | Secret | None = None,
        refresh_token: str | Secret | None = None,
        api_key: str | Secret | None = None,
        secret: str | Secret | None = None,
        expires_at: datetime | None = None,
        scopes: Iterable[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> DecryptedCredential:
        """Create or fully replace the connection's credential (bumping its version)."""
        require_text("auth_mode", auth_mode, 32)
        require_aware("expires_at", expires_at)
        self._require_connection(connection_id)
        row = self._find(connection_id)
        if row is None:
            row = Credential(org_id=self._org_id, connection_id=connection_id, version=1)
            self._session.add(row)
        else:
            row.version += 1
        row.auth_mode = auth_mode
        secrets = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "api_key": api_key,
            "secret": secret,
        }
        for name, value in secrets.items():
            setattr(row, f"encrypted_{name}", self._encrypt(connection_id, name, value))
        row.expires_at = expires_at
        row.lifetime_seconds = None  # known only from a refresh (the provider's expires_in)
        row.scopes = _scope_list(scopes)
        row.extra = dict(extra or {})
        self._session.flush()
        return self._decrypt(row)

    def load(self, connection_id: str) -> DecryptedCredential:
        """Return the connection's credential, decrypted, as currently committed."""
        return self._decrypt(self._require(connection_id))

    def load_for_refresh(self, connection_id: str) -> DecryptedCredential:
        """Like ``load``, but row-locked until the transaction ends (PostgreSQL).

        Workers that refresh the same token queue up here instead of calling the provider
        together; SQLite ignores the lock and relies on the version fence alone.
        """
        return self._decrypt(self._require(connection_id, lock=True))

    def update_tokens(
        self,
        connection_id: str,
        *,
        expected_version: int,
        access_token: str | Secret,
        refresh_token: str | Secret | None = None,
        expires_at: datetime | None = None,
        scopes: Iterable[str] | None = None,
    ) -> DecryptedCredential:
        """Write refreshed tokens if the credential is still at ``expected_version``.

        A None ``refresh_token`` keeps the current one (providers that do not rotate it).
        Raises ``StaleVersionError`` when another writer got there first.
        """
        require_aware("expires_at", expires_at)
        values: dict[str, Any] = {
            "encrypted_access_token": self._encrypt(connection_id, "access_token", access_token),
            "expires_at": expires_at,
            "lifetime_seconds": lifetime_of(expires_at),
            "version": Credential.version + 1,
            "updated_at": utcnow(),
        }
        if refresh_token is not None:
            values["encrypted_refresh_token"] = self._encrypt(
                connection_id, "refresh_token", refresh_token
            )
        if scopes is not None:
            values["scopes"] = _scope_list(scopes)
        self._session.flush()
        result = self._session.execute(
            update(Credential)
            .where(
                Credential.org_id == self._org_id,
                Credential.connection_id == connection_id,
                Credential.version == expected_version,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            self._require(connection_id)  # NotFoundError if the credential is gone
            raise StaleVersionError("credential", connection_id, expected_version)
        return self.load(connection_id)

    def delete(self, connection_id: str) -> None:
        """Forget the connection's credential."""
        self._session.delete(self._require(connection_id))
        self._session.flush()

    def reencrypt(self) -> int:
        """Re-encrypt this org's secrets still under an old key; return rows changed."""
        return reencrypt_credentials(self._session, self._keyring, self._scoped())

    def _require_connection(self, connection_id: str) -> None:
        found = self._session.scalar(
            select(Connection.id).where(
                Connection.id == connection_id, Connection.org_id == self._org_id
            )
        )
        if found is None:
            raise NotFoundError("connection", connection_id)

    def _scoped(self) -> Select[Credential]:
        return select(Credential).where(Credential.org_id == self._org_id)

    def _find(self, connection_id: str, *, lock: bool = False) -> Credential | None:
        # populate_existing: a row cached by this session may be stale after another
        # worker's refresh; credentials are always read as the database has them.
        query = (
            self._scoped()
            .where(Credential.connection_id == connection_id)
            .execution_options(populate_existing=True)
        )
        if lock:
            query = query.with_for_update()
        return self._session.scalars(query).one_or_none()

    def _require(self, connection_id: str, *, lock: bool = False) -> Credential:
        row = self._find(connection_id, lock=lock)
        if row is None:
            raise NotFoundError("credential", connection_id)
        return row

    def _encrypt(self, connection_id: str, name: str, value: str | Secret | None) -> str | None:
        if value is None:
            return None
        return self._keyring.encrypt(
            value, associated_data=associated_data(self._org_id, connection_id, name)
        )

    def _decrypt(self, row: Credential) -> DecryptedCredential:
        secrets: dict[str, Secret | None] = {}
        for name in CREDENTIAL_SECRET_FIELDS:
            ciphertext: str | None = getattr(row, f"encrypted_{name}")
            secrets[name] = (
                None
                if ciphertext is None
                else self._keyring.decrypt(
                    ciphertext,
                    associated_data=associated_data(row.org_id, row.connection_id, name),
                )
            )
        return DecryptedCredential(
            connection_id=row.connection_id,
            auth_mode=row.auth_mode,
            version=row.version,
            expires_at=row.expires_at,
            scopes=tuple(row.scopes),
            extra=dict(row.extra),
            lifetime_seconds=row.lifetime_seconds,
            **secrets,
        )


@dataclass(frozen=True, slots=True)
class DueCredential:
    """A credential expiring soon, as the refresh scheduler needs it (no secrets)."""

    org_id: str
    connection_id: str
    connection_name: str
    provider: str
    expires_at: datetime
    lifetime_seconds: int | None = None


def find_expiring_credentials(
    session: Session,
    *,
    before: datetime,
    auth_modes: Iterable[str],
    org_id: str | None = None,
) -> list[DueCredential]:
    """Credentials of *connected* connections expiring before ``before``, soonest first.

    Operator-wide unless ``org_id`` is given (the refresh scheduler serves every org);
    reads no secrets.
    """
    require_aware("before", before)
    query = (
        select(
            Credential.org_id,
            Credential.connection_id,
            Connection.name,
            Connection.provider,
            Credential.expires_at,
            Credential.lifetime_seconds,
        )
        .join(Connection, Connection.id == Credential.connection_id)
        .where(
            Connection.status == "connected",
            Credential.auth_mode.in_(list(auth_modes)),
            Credential.expires_at.is_not(None),
            Credential.expires_at <= before,
        )
        .order_by(Credential.expires_at, Credential.id)
    )
    if org_id is not None:
        query = query.where(Credential.org_id == org_id)
    return [
        DueCredential(org, connection, name, provider, expires, lifetime)
        for org, connection, name, provider, expires, lifetime in session.execute(query).all()
        if expires is not None
    ]


def reencrypt_credentials(
    session: Session,
    keyring: KeyRing,
    query: Select[Credential] | None = None,
) -> int:
    """Re-encrypt every secret not under the ring's primary key; return rows changed.

    Operator-wide by default (``switchyard keys rotate``). Each row is rewritten only if its
    version is unchanged, and the version is not bumped: a refresh racing with rotation
    wins, and its new tokens are already under the primary key.
    """
    changed = 0
    rows = session.scalars(
        (query if query is not None else select(Credential)).order_by(Credential.id)
    ).all()
    for row in rows:
        values: dict[str, str] = {}
        for name in CREDENTIAL_SECRET_FIELDS:
            column = f"encrypted_{name}"
            ciphertext: str | None = getattr(row, column)
            if ciphertext is not None and keyring.needs_rotation(ciphertext):
                values[column] = keyring.reencrypt(
                    ciphertext,
                    associated_data=associated_data(row.org_id, row.connection_id, name),
                )
        if not values:
            continue
        result = session.execute(
            update(Credential)
            .where(Credential.id == row.id, Credential.version == row.version)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            changed += 1
            session.expire(row)
    return changed


def lifetime_of(expires_at: datetime | None) -> int | None:
    """Seconds a token just returned by the provider has to live: its ``expires_in``."""
    if expires_at is None:
        return None
    return min(MAX_LIFETIME_SECONDS, max(1, round((expires_at - utcnow()).total_seconds())))


def _scope_list(scopes: Iterable[str]) -> list[str]:
    if isinstance(scopes, str):
        raise InvalidFieldError("scopes", "must be a list of scope strings, not one string")
    return [str(scope) for scope in scopes]
