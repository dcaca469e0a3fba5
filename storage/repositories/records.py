"""Synced records of one org: bulk upsert of a page, delete detection, paged reads.

A page is written with one ``INSERT ... ON CONFLICT DO UPDATE`` for its new and changed
records (PostgreSQL and SQLite share the construct). Unchanged records — same content hash —
are not rewritten; a full sync only stamps them as seen by the run, which is how records the
provider no longer has are told apart at the end (:meth:`mark_unseen_deleted`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, func, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError
from storage.models import Record
from storage.repositories.checks import require_aware, require_limit
from storage.repositories.records_pg import merge_page

RECORDS: Table = Record.__table__  # type: ignore[assignment]  # Core table: executemany


@dataclass(frozen=True)
class RecordRow:
    """One provider record, ready to store: its id, body, content hash and updated-at."""

    external_id: str
    data: dict[str, Any]
    content_hash: str
    provider_updated_at: str | None = None


@dataclass
class PageCounts:
    """What writing one page did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class RecordPage:
    """A page of records read through the API, and the cursor of the next page."""

    records: Sequence[Record]
    next_cursor: str | None


class RecordRepository:
    """Write and read the synced records of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def upsert_page(
        self,
        connection_id: str,
        model: str,
        rows: Sequence[RecordRow],
        *,
        run_id: str,
        now: datetime,
        touch_unchanged: bool,
        deleted_ids: Iterable[str] = (),
    ) -> PageCounts:
        """Upsert a page; unchanged rows are skipped (or only stamped as seen by the run)."""
        by_id = {row.external_id: row for row in rows}  # a repeated id: the last one wins
        if self._session.get_bind().dialect.name == "postgresql":
            added, updated = merge_page(
                self._session,
                org_id=self._org_id,
                connection_id=connection_id,
                model=model,
                rows=list(by_id.values()),
                run_id=run_id,
                now=now,
                touch_unchanged=touch_unchanged,
            )
            counts = PageCounts(added, updated, len(by_id) - added - updated)
        else:
            counts = self._upsert_portable(
                connection_id, model, by_id, run_id, now, touch_unchanged
            )
        gone = [i for i in deleted_ids if i not in by_id]
        if gone:
            counts.deleted = self._mark_deleted(
                connection_id, model, now, Record.external_id.in_(gone)
            )
        return counts

    def mark_unseen_deleted(
        self, connection_id: str, model: str, run_id: str, now: datetime
    ) -> int:
        """Mark live records the run did not see as deleted; returns how many."""
        unseen = or_(Record.seen_run_id.is_(None), Record.seen_run_id != run_id)
        return self._mark_deleted(connection_id, model, now, unseen)

    def count(self, connection_id: str, model: str, *, include_deleted: bool = False) -> int:
        """How many records of the model the connection holds (live ones by default)."""
        query = self._where(select(func.count()).select_from(Record), connection_id, model)
        if not include_deleted:
            query = query.where(Record.deleted_at.is_(None))
        return int(self._session.scalar(query) or 0)

    def external_ids(self, connection_id: str, model: str) -> set[str]:
        """The ids of the live records (tests and small models; large ones page with list)."""
        query = self._where(select(Record.external_id), connection_id, model)
        return set(self._session.scalars(query.where(Record.deleted_at.is_(None))))

    def list(
        self,
        *,
        model: str | None = None,
        connection_id: str | None = None,
        updated_since: datetime | None = None,
        include_deleted: bool = False,
        cursor: str | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Records in (updated_at, id) order from ``cursor``; deleted ones on request."""
        require_limit(limit)
        require_aware("updated_since", updated_since)
        query = select(Record).where(Record.org_id == self._org_id)
        if model is not None:
            query = query.where(Record.model == model)
        if connection_id is not None:
            query = query.where(Record.connection_id == connection_id)
        if updated_since is not None:
            query = query.where(Record.updated_at >= updated_since)
        if not include_deleted:
            query = query.where(Record.deleted_at.is_(None))
        if cursor is not None:
            query = query.where(_after(cursor))
        order = (Record.updated_at, Record.connection_id, Record.model, Record.external_id)
        rows = self._session.scalars(query.order_by(*order).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return RecordPage(rows, _cursor_of(rows[-1]) if more and rows else None)

    # -- internals ---------------------------------------------------------------------------

    def _upsert_portable(
        self,
        connection_id: str,
        model: str,
        by_id: dict[str, RecordRow],
        run_id: str,
        now: datetime,
        touch_unchanged: bool,
    ) -> PageCounts:
        """Any backend: read the page's stored hashes, upsert what differs, stamp the rest."""
        known = self._known(connection_id, model, by_id)
        counts = PageCounts()
        changed: list[RecordRow] = []
        unchanged: list[str] = []
        for external_id, row in by_id.items():
            previous = known.get(external_id)
            if previous is None:
                counts.added += 1
                changed.append(row)
            elif previous != (row.content_hash, False):
                counts.updated += 1
                changed.append(row)
            else:
                unchanged.append(external_id)
        counts.unchanged = len(unchanged)
        if changed:
            self._write(connection_id, model, changed, run_id, now)
        if unchanged and touch_unchanged:
            self._session.execute(
                self._where(update(Record), connection_id, model)
                .where(Record.external_id.in_(unchanged))
                .values(seen_run_id=run_id, last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
        return counts

    def _where(self, query: Any, connection_id: str, model: str) -> Any:
        return query.where(
            Record.org_id == self._org_id,
            Record.connection_id == connection_id,
            Record.model == model,
        )

    def _known(
        self, connection_id: str, model: str, ids: Iterable[str]
    ) -> dict[str, tuple[str, bool]]:
        wanted = list(ids)
        if not wanted:
            return {}
        query: Select[Any] = self._where(
            select(Record.external_id, Record.content_hash, Record.deleted_at), connection_id, model
        ).where(Record.external_id.in_(wanted))
        return {
            eid: (digest, deleted is not None)
            for eid, digest, deleted in self._session.execute(query)
        }

    def _write(
        self, connection_id: str, model: str, rows: Sequence[RecordRow], run_id: str, now: datetime
    ) -> None:
        values = [
            {
                "connection_id": connection_id,
                "model": model,
                "external_id": row.external_id,
                "org_id": self._org_id,
                "data": row.data,
                "content_hash": row.content_hash,
                "provider_updated_at": row.provider_updated_at,
                "seen_run_id": run_id,
                "first_seen_at": now,
                "last_seen_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
            for row in rows
        ]
        self._session.execute(_upsert_statement(self._session), values)

    def _mark_deleted(self, connection_id: str, model: str, now: datetime, which: Any) -> int:
        result = self._session.execute(
            self._where(update(Record), connection_id, model)
            .where(Record.deleted_at.is_(None), which)
            .values(deleted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def flush_commit_lazily(session: Session) -> None:
    """Let this transaction's COMMIT return before its WAL reaches disk (PostgreSQL's
    ``synchronous_commit = off`` for this transaction only; a no-op elsewhere).

    For a sync page this is safe: its records and its checkpoint commit together, so a
    database crash can only lose a suffix of pages *with* their checkpoints, and the engine
    refuses to commit a page whose starting checkpoint is not the stored one.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def _upsert_statement(session: Session) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of one record, run as an executemany: one
    compiled (and cached) statement per page instead of a statement with a VALUES row per
    record, which costs more to compile than to run."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RECORDS)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["connection_id", "model", "external_id"],
        set_={
            "data": excluded.data,
            "content_hash": excluded.content_hash,
            "provider_updated_at": excluded.provider_updated_at,
            "seen_run_id": excluded.seen_run_id,
            "last_seen_at": excluded.last_seen_at,
            "updated_at": excluded.updated_at,
            "deleted_at": None,
        },
    )


def _cursor_of(record: Record) -> str:
    raw = "\x1f".join(
        (record.updated_at.isoformat(), record.connection_id, record.model, record.external_id)
    )
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str) -> Any:
    try:
        stamp, connection_id, model, external_id = (
            base64.urlsafe_b64decode(cursor.encode()).decode().split("\x1f")
        )
        at = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError):
        raise InvalidFieldError("cursor", "not a cursor this API returned") from None
    key = tuple_(Record.updated_at, Record.connection_id, Record.model, Record.external_id)
    return and_(key > tuple_(at, connection_id, model, external_id))
