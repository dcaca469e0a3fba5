"""API keys for the HTTP API: only a SHA-256 of the key is stored, never the key itself.

Keys are high-entropy random strings, so a plain (unsalted) hash is enough to make a
leaked table useless and still lets us look a key up by its hash in one indexed query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column

API_KEY_SCOPES = ("org", "admin")


class ApiKey(Base):
    """An API key: ``org`` scope acts for one org; ``admin`` scope (no org) acts for all."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'admin' AND org_id IS NULL) OR (scope = 'org' AND org_id IS NOT NULL)",
            name="scope_matches_org",
        ),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"ApiKey(id={self.id!r}, scope={self.scope!r}, org_id={self.org_id!r}, "
            f"name={self.name!r}, prefix={self.prefix!r})"
        )
