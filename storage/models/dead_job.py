"""A job parked in the dead-letter queue, kept with enough context to inspect and replay it.

``org_id`` is deliberately not a foreign key: the dead-letter queue must accept any failed
job, even one whose org was deleted meanwhile, rather than lose it to an integrity error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, id_column
from storage.types import utcnow


class DeadJob(Base):
    """A dead job: the original envelope plus why and when it failed."""

    __tablename__ = "dead_jobs"

    id: Mapped[str] = id_column()
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    org_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    queue: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    envelope: Mapped[dict[str, Any]]
    error_class: Mapped[str] = mapped_column(String(200), index=True)
    error_message: Mapped[str] = mapped_column(Text)
    traceback_summary: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    dead_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    replayed_at: Mapped[datetime | None]
    replay_count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return (
            f"DeadJob(id={self.id!r}, job_id={self.job_id!r}, org_id={self.org_id!r}, "
            f"kind={self.kind!r}, provider={self.provider!r}, error_class={self.error_class!r})"
        )
