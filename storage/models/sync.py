"""Syncs: the records a provider holds for a connection, run history, checkpoints, schedules.

``records`` is keyed by (connection, model, external id) — the provider's identity of a
record — so a page is upserted in one statement and a re-fetched page changes nothing. Its
one foreign key, (connection, org) -> connections, keeps a record in its connection's org
at one key check per inserted row (a key per column cost two). PostgreSQL keeps half of
each heap page free (``fillfactor``): a full run rewrites every record it sees, and the new
version of an unchanged one (only stamped as seen) then fits on the same page — a HOT
update, which writes no index entry. Without it each full run leaves a dead copy of every
record, and of its index entries, until vacuum: the table grows that big anyway.
``sync_states`` holds one row per (connection, model): the running run's lease and page
checkpoint (written in the same transaction as the page's records, so a killed worker
resumes at the next page) and the provider cursor kept between incremental runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column
from storage.types import utcnow

SYNC_MODES = ("incremental", "full")
MODEL_LENGTH = 64
EXTERNAL_ID_LENGTH = 255
RECORDS_FILLFACTOR = 50


def _org_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"))


def _connection_column(**kwargs: Any) -> Mapped[str]:
    return mapped_column(
        String(ID_LENGTH), ForeignKey("connections.id", ondelete="CASCADE"), **kwargs
    )


class Record(Base):
    """One provider record as last seen; ``deleted_at`` is set when the provider lost it."""

    __tablename__ = "records"
    __table_args__ = (
        ForeignKeyConstraint(
            ["connection_id", "org_id"],
            ["connections.id", "connections.org_id"],
            ondelete="CASCADE",
        ),
        Index("ix_records_org_model_updated", "org_id", "model", "updated_at"),
        {"postgresql_with": {"fillfactor": RECORDS_FILLFACTOR}},
    )

    connection_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    data: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(32))
    provider_updated_at: Mapped[str | None] = mapped_column(String(64))
    seen_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Record(model={self.model!r}, external_id={self.external_id!r})"


class SyncRun(Base):
    """One run of one (connection, model): counts, pages, outcome — the run history."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_connection_model_started", "connection_id", "model", "started_at"),
        Index("ix_sync_runs_finished_at", "finished_at"),  # retention
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
        CheckConstraint("mode IN ('incremental', 'full')", name="mode_known"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = _org_column()
    connection_id: Mapped[str] = _connection_column()
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")
    job_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    resumes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"SyncRun(id={self.id!r}, model={self.model!r}, status={self.status!r})"


class SyncState(Base):
    """Where the (connection, model) stands: lease of the running run, checkpoints."""

    __tablename__ = "sync_states"

    connection_id: Mapped[str] = _connection_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH), primary_key=True)
    org_id: Mapped[str] = _org_column()
    run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    lease_owner: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    lease_until: Mapped[datetime | None]
    page_checkpoint: Mapped[dict[str, Any] | None]
    provider_cursor: Mapped[str | None] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    last_success_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncSchedule(Base):
    """Run a (connection, model) every ``interval_seconds`` or on a ``cron`` expression."""

    __tablename__ = "sync_schedules"
    __table_args__ = (
        UniqueConstraint("connection_id", "model"),
        Index("ix_sync_schedules_due", "enabled", "next_due_at"),
        CheckConstraint("(interval_seconds IS NULL) <> (cron IS NULL)", name="interval_or_cron"),
        CheckConstraint("mode IN ('incremental', 'full')", name="mode_known"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = _org_column()
    connection_id: Mapped[str] = _connection_column()
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH))
    mode: Mapped[str] = mapped_column(String(16), default="incremental")
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime]
    last_enqueued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"SyncSchedule(id={self.id!r}, model={self.model!r}, enabled={self.enabled!r})"
