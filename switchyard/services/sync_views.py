"""Sync runs, schedules and records as JSON-ready data, shared by the CLI and the API."""

from __future__ import annotations

from typing import Any

from storage.models import Connection, Record, SyncRun, SyncSchedule, SyncState

RUN_FIELDS = (
    "id",
    "provider",
    "model",
    "mode",
    "status",
    "added",
    "updated",
    "deleted",
    "unchanged",
    "pages",
    "resumes",
    "duration_ms",
    "error",
    "connection_id",
)
SCHEDULE_FIELDS = ("id", "provider", "model", "mode", "interval_seconds", "cron", "enabled")


def run_view(run: SyncRun) -> dict[str, Any]:
    out = {name: getattr(run, name) for name in RUN_FIELDS}
    out["started_at"] = run.started_at.isoformat()
    out["finished_at"] = run.finished_at.isoformat() if run.finished_at else None
    return out


def schedule_view(schedule: SyncSchedule) -> dict[str, Any]:
    out = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
    out["connection_id"] = schedule.connection_id
    out["next_due_at"] = schedule.next_due_at.isoformat()
    return out


def record_view(record: Record) -> dict[str, Any]:
    return {
        "id": record.external_id,
        "model": record.model,
        "connection_id": record.connection_id,
        "data": record.data,
        "provider_updated_at": record.provider_updated_at,
        "first_seen_at": record.first_seen_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
    }


def state_view(connection: Connection, model: str, state: SyncState | None) -> dict[str, Any]:
    """Where a (connection, model) stands: ``running``, its last status, or ``never``."""
    status: str | None = "never"
    if state is not None:
        status = "running" if state.run_id else state.last_status
    return {
        "provider": connection.provider,
        "connection": connection.name,
        "model": model,
        "status": status,
        "last_success_at": state.last_success_at if state else None,
    }
