"""A job's state hash (:mod:`queueing.job_state`) as the public ``JobStatus`` shape.

Two states are derived when read, not written, so no write races the worker: a job waiting
whose time has come is ``queued`` (admission lanes it at its next fetch), and a queued or
waiting job whose cancel was asked but was no longer in its lane is ``running`` (admitted).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Waiting:
    reason: str
    until: datetime


@dataclass(frozen=True)
class Retry:
    attempt: int
    next_at: datetime | None
    error_class: str | None


@dataclass(frozen=True)
class Dead:
    reason: str
    dead_job_id: str | None


@dataclass(frozen=True)
class JobView:
    """What ``GET /v1/jobs/{id}`` answers (the fields of ``JobStatus``)."""

    id: str
    org_id: str
    kind: str
    provider: str | None
    action: str | None
    model: str | None
    queue: str
    state: str
    attempts: int
    cancel_requested: bool
    waiting: Waiting | None
    retry: Retry | None
    dead: Dead | None
    result: dict[str, str | int | bool | None] | None
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


def job_view(job_id: str, raw: dict[str, str], now_ms: int) -> JobView:
    """The public view of one stored state hash, read at ``now_ms``."""
    cancel = raw.get("cancel") == "1"
    state = derived_state(raw, now_ms)
    return JobView(
        id=job_id,
        org_id=raw.get("org", ""),
        kind=raw.get("kind", ""),
        provider=raw.get("provider") or None,
        action=raw.get("action") or None,
        model=raw.get("model") or None,
        queue=raw.get("queue", ""),
        state=state,
        attempts=int(raw.get("attempts") or 0),
        cancel_requested=cancel,
        waiting=_waiting(raw) if state == "waiting" else None,
        retry=_retry(raw) if state == "retrying" else None,
        dead=_dead(raw) if state == "dead" else None,
        result=json.loads(raw["result"]) if raw.get("result") else None,
        enqueued_at=_time(raw.get("enqueued_at")),
        started_at=_time(raw.get("started_at")),
        finished_at=_time(raw.get("finished_at")),
        updated_at=_time(raw.get("updated_at")) or datetime.now(UTC),
    )


def derived_state(raw: dict[str, str], now_ms: int) -> str:
    state = raw.get("state", "queued")
    if state in ("queued", "waiting") and raw.get("cancel") == "1":
        return "running"
    if state == "waiting" and int(raw.get("wait_until") or 0) <= now_ms:
        return "queued"
    return state


def _waiting(raw: dict[str, str]) -> Waiting:
    return Waiting(
        reason=raw.get("wait_reason") or "deferred", until=_required_time(raw, "wait_until")
    )


def _retry(raw: dict[str, str]) -> Retry:
    return Retry(
        attempt=int(raw.get("retry_attempt") or 0),
        next_at=_time(raw.get("retry_next_at")),
        error_class=raw.get("error_class") or None,
    )


def _dead(raw: dict[str, str]) -> Dead:
    return Dead(
        reason=raw.get("dead_reason") or "unknown", dead_job_id=raw.get("dead_job_id") or None
    )


def _time(ms: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(ms) / 1000, UTC) if ms else None


def _required_time(raw: dict[str, str], name: str) -> datetime:
    return _time(raw.get(name)) or datetime.now(UTC)


def as_dict(view: Any) -> dict[str, Any]:
    """A view as JSON-ready data (CLI output)."""
    data: dict[str, Any] = json.loads(json.dumps(asdict(view), default=lambda v: v.isoformat()))
    return data
