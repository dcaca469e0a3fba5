"""How far ``switchyard keys rotate`` got, per kind of secret and target key.

The cursor is committed in the same transaction as the batch it describes, so a rotation
killed at any point resumes after the last batch that really reached the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, updated_at_column


class KeyRotationProgress(Base):
    """Progress of re-encrypting one kind of secret (``target``) to key ``kid``."""

    __tablename__ = "key_rotation_progress"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[str | None] = mapped_column(String(64))
    rows_changed: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return (
            f"KeyRotationProgress(target={self.target!r}, kid={self.kid!r}, "
            f"last_id={self.last_id!r}, finished_at={self.finished_at!r})"
        )
