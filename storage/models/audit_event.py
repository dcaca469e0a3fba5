"""An append-only record of who did what: key changes, replays, purges, key rotations.

``org_id`` is not a foreign key so the trail outlives the org it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, id_column
from storage.types import utcnow


class AuditEvent(Base):
    """One audited action; ``org_id`` is None for operator-wide actions."""

    __tablename__ = "audit_events"

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return (
            f"AuditEvent(id={self.id!r}, org_id={self.org_id!r}, actor={self.actor!r}, "
            f"action={self.action!r})"
        )
