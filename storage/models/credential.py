"""Secrets of one connection, stored only as ciphertext (see ``storage.crypto``).

``version`` fences token refreshes: a writer states the version it read and loses if the
row moved on, so two workers can never both rotate the same refresh token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column, updated_at_column

CREDENTIAL_SECRET_FIELDS = ("access_token", "refresh_token", "api_key", "secret")
"""Secret fields; each is stored encrypted in the column ``encrypted_<field>``."""


class Credential(Base):
    """Encrypted credential of a connection; its repr never shows ciphertext or plaintext."""

    __tablename__ = "credentials"

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    auth_mode: Mapped[str] = mapped_column(String(32))
    encrypted_access_token: Mapped[str | None] = mapped_column(Text)
    encrypted_refresh_token: Mapped[str | None] = mapped_column(Text)
    encrypted_api_key: Mapped[str | None] = mapped_column(Text)
    encrypted_secret: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)  # the refresh scheduler
    # How long the access token lived when a refresh stored it (the provider's ``expires_in``;
    # None until the first refresh): the refresh margin is capped at a fraction of it.
    lifetime_seconds: Mapped[int | None] = mapped_column(default=None)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return (
            f"Credential(id={self.id!r}, connection_id={self.connection_id!r}, "
            f"auth_mode={self.auth_mode!r}, version={self.version!r})"
        )


class RefreshIntent(Base):
    """The last refresh-token request of a connection: marked ``pending`` and committed
    before the refresh token is presented to the provider, unmarked once the outcome is
    stored. Pending at the credential's current ``version`` means the refresher died not
    knowing whether the provider rotated that token: if the provider rotates (``rotates``,
    learned from the last answer; unknown counts as rotating) it must not be presented
    again, since a single-use refresh token's reuse is refused or revokes its family."""

    __tablename__ = "credential_refresh_intents"

    # No foreign key to ``credentials``: the refresher writes this row from a second
    # session while its own transaction holds the credential row lock (a key-share check
    # against that lock would wait on itself).
    connection_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]  # the credential version whose refresh token was presented
    pending: Mapped[bool] = mapped_column(default=True)
    rotates: Mapped[bool | None] = mapped_column(default=None)  # did the last answer rotate?
    started_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return (
            f"RefreshIntent(connection_id={self.connection_id!r}, version={self.version!r}, "
            f"pending={self.pending!r})"
        )
