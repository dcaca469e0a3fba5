"""Routes: per org, an event type (and an optional filter on its data) to ordered action steps.

A route's ``steps`` are data, validated before they are saved (each names a provider, a
connection, an action and the field mapping that builds the action's input from the event
and earlier steps' outputs); the row only stores them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column, updated_at_column


class Route(Base):
    """One route of one org; ``filter`` maps dotted event paths to required values."""

    __tablename__ = "routes"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        Index("ix_routes_org_event_type", "org_id", "event_type"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return (
            f"Route(id={self.id!r}, org_id={self.org_id!r}, name={self.name!r}, "
            f"event_type={self.event_type!r}, steps={len(self.steps or [])})"
        )
