"""Sync schedules: one org's through ``SyncScheduleRepository``; the scheduler's sweep of
due schedules across orgs through ``AdminSyncScheduleRepository`` (operator only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError, NotFoundError
from storage.models import SYNC_MODES, SyncSchedule
from storage.repositories.checks import require_aware, require_choice, require_limit

MIN_INTERVAL_SECONDS = 60


class SyncScheduleRepository:
    """Set, list and remove the sync schedules of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def put(
        self,
        connection_id: str,
        *,
        provider: str,
        model: str,
        mode: str,
        next_due_at: datetime,
        interval_seconds: int | None = None,
        cron: str | None = None,
        enabled: bool = True,
    ) -> SyncSchedule:
        """Create or replace the schedule of (connection, model); interval xor cron."""
        require_choice("mode", mode, SYNC_MODES)
        require_aware("next_due_at", next_due_at)
        if (interval_seconds is None) == (cron is None):
            raise InvalidFieldError("interval_seconds", "give exactly one of an interval or cron")
        if interval_seconds is not None and interval_seconds < MIN_INTERVAL_SECONDS:
            raise InvalidFieldError(
                "interval_seconds", f"must be at least {MIN_INTERVAL_SECONDS} seconds"
            )
        schedule = self.find(connection_id, model)
        if schedule is None:
            schedule = SyncSchedule(org_id=self._org_id, connection_id=connection_id, model=model)
            self._session.add(schedule)
        schedule.provider = provider
        schedule.mode = mode
        schedule.interval_seconds = interval_seconds
        schedule.cron = cron
        schedule.enabled = enabled
        schedule.next_due_at = next_due_at
        self._session.flush()
        return schedule

    def find(self, connection_id: str, model: str) -> SyncSchedule | None:
        return self._session.scalars(
            select(SyncSchedule).where(
                SyncSchedule.org_id == self._org_id,
                SyncSchedule.connection_id == connection_id,
                SyncSchedule.model == model,
            )
        ).one_or_none()

    def list(self) -> Sequence[SyncSchedule]:
        """The org's schedules, by provider and model."""
        return self._session.scalars(
            select(SyncSchedule)
            .where(SyncSchedule.org_id == self._org_id)
            .order_by(SyncSchedule.provider, SyncSchedule.model, SyncSchedule.id)
        ).all()

    def delete(self, connection_id: str, model: str) -> None:
        """Remove the schedule, or :class:`NotFoundError`."""
        schedule = self.find(connection_id, model)
        if schedule is None:
            raise NotFoundError("sync schedule", f"{connection_id}/{model}")
        self._session.delete(schedule)
        self._session.flush()


class AdminSyncScheduleRepository:
    """Across orgs: the schedules due now, for ``switchyard scheduler``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def due(self, now: datetime, *, limit: int = 500) -> Sequence[SyncSchedule]:
        """Enabled schedules due at ``now``, oldest slot first, rows locked (skipping rows
        another scheduler holds, on PostgreSQL)."""
        require_aware("now", now)
        require_limit(limit)
        return self._session.scalars(
            select(SyncSchedule)
            .where(SyncSchedule.enabled.is_(True), SyncSchedule.next_due_at <= now)
            .order_by(SyncSchedule.next_due_at, SyncSchedule.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
