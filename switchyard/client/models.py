"""Typed bodies of the Switchyard API, as the client sends and reads them.

They mirror the server's schemas (a test compares their fields with the committed OpenAPI
document); answers keep fields a newer server adds (``extra="allow"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobKind = Literal["refresh", "sync", "action", "deliver", "inbound"]
JobState = Literal["queued", "waiting", "running", "retrying", "succeeded", "dead", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "dead", "cancelled"})


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Job(BaseModel):
    """One job to enqueue (the server's ``JobRequest``); ``org_id`` by id or unique name."""

    model_config = ConfigDict(extra="forbid")

    kind: JobKind
    provider: str
    payload: dict[str, Any] = Field(default_factory=dict)
    org_id: str | None = None
    connection: str | None = None
    idempotency_key: str | None = None
    priority: int | None = Field(default=None, ge=0, le=9)
    not_before: str | None = None
    correlation_id: str | None = None
    notify: bool | None = None
    """Publish ``job.succeeded`` / ``job.dead`` to the org's webhook endpoints when it ends."""


class ErrorField(_Answer):
    field: str
    message: str


class ErrorDetail(_Answer):
    code: str
    message: str
    fields: list[ErrorField] = Field(default_factory=list)


class JobCreated(_Answer):
    id: str
    duplicate: bool


class JobBatchItem(_Answer):
    index: int
    id: str | None = None
    duplicate: bool | None = None
    error: ErrorDetail | None = None


class JobBatchResult(_Answer):
    accepted: int
    rejected: int
    items: list[JobBatchItem]


class Waiting(_Answer):
    reason: str
    until: datetime | None = None


class RetryState(_Answer):
    attempt: int
    next_at: datetime | None = None
    error_class: str | None = None


class DeadState(_Answer):
    reason: str
    dead_job_id: str | None = None


class JobStatus(_Answer):
    """Where a job is (``GET /v1/jobs/{id}``)."""

    id: str
    org_id: str
    kind: str
    provider: str | None = None
    action: str | None = None
    model: str | None = None
    queue: str
    state: JobState
    attempts: int
    cancel_requested: bool = False
    waiting: Waiting | None = None
    retry: RetryState | None = None
    dead: DeadState | None = None
    result: dict[str, str | int | bool | None] | None = None
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES


class EventPublished(_Answer):
    id: str
    duplicate: bool
    jobs: int


class DeadJob(_Answer):
    """A dead-lettered job; the server adds the envelope, reason and timestamps."""

    id: str


class DeadJobPage(_Answer):
    items: list[DeadJob]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None
    next_cursor: str | None = None


class ReplayedDeadJob(_Answer):
    dead_job_id: str
    job_id: str


class RefusedDeadJob(_Answer):
    dead_job_id: str
    reason: str


class DeadJobsReplayed(_Answer):
    replayed: list[ReplayedDeadJob]
    refused: list[RefusedDeadJob]


class Connection(_Answer):
    id: str
    provider: str
    name: str
    status: str


class ConnectionPage(_Answer):
    items: list[Connection]
    next_cursor: str | None = None


class CheckResult(_Answer):
    connection_id: str
    provider: str
    ok: bool
    status: int | None = None
    detail: str
