"""Succeeded action calls, by idempotency key: the local half of action idempotency.

A redelivered job whose key is here does not call the provider again; it takes the stored
``output``. Route pipelines also read earlier steps' outputs from here (by event and
route), so large outputs never travel in job payloads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column


class ActionRun(Base):
    """One action call that succeeded; ``key`` is unique per org."""

    __tablename__ = "action_runs"
    __table_args__ = (
        UniqueConstraint("org_id", "key"),
        Index("ix_action_runs_pipeline", "org_id", "event_id", "route_id"),
        Index("ix_action_runs_created_at", "created_at"),  # retention
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    route_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    step: Mapped[int | None]
    output: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"ActionRun(key={self.key!r}, provider={self.provider!r}, action={self.action!r})"
