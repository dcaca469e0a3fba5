"""An org's link to one provider account (an org may hold several per provider, by name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column, updated_at_column

CONNECTION_STATUSES = ("connected", "disconnected", "error")


class Connection(Base):
    """A connection: ``account_identifier`` routes inbound webhooks, ``config`` tunes jobs."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("org_id", "provider", "name"),
        # the target of records' (connection, org) foreign key
        Index("ix_connections_id_org_id", "id", "org_id", unique=True),
        CheckConstraint("status IN ('connected', 'disconnected', 'error')", name="status_known"),
        # one holder per proven provider account, unless the operator allows sharing it
        Index(
            "uq_connections_provider_proven_account",
            "provider",
            "proven_account",
            unique=True,
            postgresql_where=text("proven_account IS NOT NULL AND NOT account_shared"),
            sqlite_where=text("proven_account IS NOT NULL AND NOT account_shared"),
        ),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64), default="default")
    status: Mapped[str] = mapped_column(String(16), default="connected")
    account_identifier: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_synced_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    #: The routing identifier's value, set only when the provider itself returned it (or the
    #: operator attested it): inbound webhooks routed by account reach only these.
    proven_account: Mapped[str | None] = mapped_column(String(255))
    account_proof: Mapped[str | None] = mapped_column(String(32))
    account_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return (
            f"Connection(id={self.id!r}, org_id={self.org_id!r}, provider={self.provider!r}, "
            f"name={self.name!r}, status={self.status!r})"
        )
