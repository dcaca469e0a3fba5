"""API keys: issued once in plaintext, then known only by their SHA-256.

Not org-scoped: keys are managed by operators, and authentication must find a key before
anyone knows its org. Listings return ``ApiKeyInfo``, which has no hash field at all.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.crypto import Secret
from storage.errors import NotFoundError
from storage.models import ApiKey, Organization
from storage.repositories.checks import flush_unique, require_text
from storage.types import utcnow

KEY_PREFIX = "sy_"
KEY_RANDOM_BYTES = 32
DISPLAY_PREFIX_LENGTH = 11
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often, so authentication rarely writes."""


def hash_api_key(plaintext: str) -> str:
    """SHA-256 hex of a key: what the table stores and looks keys up by."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What may be shown about a key: never the key, never its hash."""

    id: str
    org_id: str | None
    scope: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_row(cls, row: ApiKey) -> ApiKeyInfo:
        return cls(
            id=row.id,
            org_id=row.org_id,
            scope=row.scope,
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A newly created key: ``key`` is the only time the plaintext exists."""

    key: Secret
    api_key: ApiKey


class ApiKeyRepository:
    """Issue, authenticate, list and revoke API keys."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def create(self, org_id: str | None, name: str) -> IssuedApiKey:
        """Issue a key for ``org_id``, or an admin key when ``org_id`` is None."""
        require_text("name", name, 100)
        if org_id is not None and self._session.get(Organization, org_id) is None:
            raise NotFoundError("organization", org_id)
        plaintext = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
        row = ApiKey(
            org_id=org_id,
            scope="admin" if org_id is None else "org",
            name=name,
            prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
            key_hash=hash_api_key(plaintext),
        )
        self._session.add(row)
        flush_unique(self._session, "api key", "prefix", row.prefix)
        return IssuedApiKey(key=Secret(plaintext), api_key=row)

    def authenticate(self, plaintext: str) -> ApiKey | None:
        """Return the active key matching ``plaintext``, or None; records its use."""
        if not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
            return None
        row = self._session.scalars(
            select(ApiKey).where(
                ApiKey.key_hash == hash_api_key(plaintext), ApiKey.revoked_at.is_(None)
            )
        ).one_or_none()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
            self._session.flush()
        return row

    def get(self, key_id: str) -> ApiKeyInfo:
        """Return what may be shown about one key."""
        return ApiKeyInfo.from_row(self._get_row(key_id))

    def list(
        self, *, org_id: str | None = None, include_revoked: bool = False
    ) -> Sequence[ApiKeyInfo]:
        """Return keys, newest first: all of them, or those of ``org_id``."""
        query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)
        if org_id is not None:
            query = query.where(ApiKey.org_id == org_id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return [ApiKeyInfo.from_row(row) for row in self._session.scalars(query)]

    def revoke(self, key_id: str) -> ApiKeyInfo:
        """Revoke a key; revoking twice keeps the first revocation time."""
        row = self._get_row(key_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            self._session.flush()
        return ApiKeyInfo.from_row(row)

    def _get_row(self, key_id: str) -> ApiKey:
        row = self._session.get(ApiKey, key_id)
        if row is None:
            raise NotFoundError("api key", key_id)
        return row
