"""A verified inbound provider webhook, stored before its ``inbound`` job is enqueued.

``(org_id, provider, provider_event_id)`` is unique: a provider's retry of an event we
already hold is answered as a duplicate and not processed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column


class InboundWebhook(Base):
    """One received webhook: who sent it, for which connection, and its payload."""

    __tablename__ = "inbound_webhooks"
    __table_args__ = (
        UniqueConstraint("org_id", "provider", "provider_event_id"),
        Index("ix_inbound_webhooks_created_at", "created_at"),  # retention
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64))
    connection_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("connections.id", ondelete="SET NULL")
    )
    provider_event_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    processed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return (
            f"InboundWebhook(id={self.id!r}, org_id={self.org_id!r}, "
            f"provider={self.provider!r}, topic={self.topic!r})"
        )
