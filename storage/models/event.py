"""An event published by an upstream app (``QR_SCANNED``) or by Switchyard itself
(``integration.connected``): stored first, then fanned out to webhook endpoints and routes.

``fanned_out_at`` stays empty until every fan-out job is enqueued, so a publisher that dies
in between leaves a visible trace that :meth:`EventPublisher.refan_pending` completes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column

EVENT_SOURCES = ("api", "system", "inbound")


class Event(Base):
    """One published event; its ``data`` is the upstream app's, opaque to Switchyard."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_events_pending_fanout", "fanned_out_at", "created_at"),
        Index("ix_events_created_at", "created_at"),  # retention
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    correlation_id: Mapped[str | None] = mapped_column(String(200))
    fanned_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, org_id={self.org_id!r}, type={self.type!r})"
