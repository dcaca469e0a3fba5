"""``POST /v1/jobs`` and ``POST /v1/events``: what upstream apps send and get back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt

from contract.envelope import Kind
from switchyard.api.schemas.common import Answer, OrgId, Page, RequestBody

_KEY = Field(
    default=None,
    min_length=1,
    max_length=200,
    pattern=r"^[^\x00-\x1f\x7f]+$",
    description="No control characters: it travels in Redis keys, logs and headers.",
)


class JobRequest(RequestBody):
    """One job. The payload is typed per kind and checked by the job contract."""

    kind: Kind = Field(examples=["action"])
    org_id: OrgId = None
    provider: str = Field(min_length=1, max_length=64, examples=["hubspot"])
    connection: str | None = Field(default=None, max_length=64, examples=["default"])
    payload: dict[str, Any] = Field(
        default_factory=dict, examples=[{"action": "create_contact", "input": {"email": "a@b"}}]
    )
    idempotency_key: str | None = _KEY
    priority: StrictInt | None = Field(
        default=None, ge=0, le=9, description="0 lowest, 9 most urgent."
    )
    not_before: str | None = Field(default=None, description="ISO 8601 time with an offset.")
    correlation_id: str | None = _KEY
    notify: StrictBool | None = Field(
        default=None,
        description="When the job ends, publish `job.succeeded` or `job.dead` to the org's "
        "webhook endpoints subscribed to it.",
    )


class JobCreated(Answer):
    """The job's id; for a repeated idempotency key, the first job's id."""

    id: str = Field(examples=["3f2a9c1e0b8d4e6f9a7b5c3d1e0f2a4b"])
    duplicate: bool


class EventRequest(RequestBody):
    """An event of the org: fanned out to its webhook endpoints and routes."""

    type: str = Field(min_length=1, max_length=200, examples=["order.created"])
    data: dict[str, Any] = Field(default_factory=dict, examples=[{"order_id": "A-1"}])
    org_id: OrgId = None
    idempotency_key: str | None = _KEY
    correlation_id: str | None = _KEY


class EventPublished(Answer):
    id: str
    duplicate: bool
    jobs: int = Field(description="Delivery and route jobs enqueued.")


JobState = Literal["queued", "waiting", "running", "retrying", "succeeded", "dead", "cancelled"]


class JobWaiting(Answer):
    """Why a waiting job waits, and until when."""

    reason: str = Field(
        description="rate_limit | quota | concurrency | cooldown | not_before | outage | "
        "another deferral's class",
        examples=["rate_limit"],
    )
    until: datetime


class JobRetry(Answer):
    """The retry a failed attempt scheduled."""

    attempt: int = Field(description="The attempt that failed.")
    next_at: datetime | None
    error_class: str | None = Field(examples=["server_error"])


class JobDead(Answer):
    reason: str = Field(description="The error class that ended it.", examples=["unsupported"])
    dead_job_id: str | None = Field(description="Its id in /v1/dlq (null if not yet written).")


class JobStatus(Answer):
    """Where a job is: kept for ``jobs.state_retention_hours`` after its last change."""

    id: str
    org_id: str
    kind: str
    provider: str | None
    action: str | None
    model: str | None
    queue: str
    state: JobState
    attempts: int
    cancel_requested: bool = False
    waiting: JobWaiting | None
    retry: JobRetry | None
    dead: JobDead | None
    result: dict[str, str | int | bool | None] | None
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class JobList(Page[JobStatus]):
    """An org's recent jobs, newest first, in every list's shape (``items``, ``next_cursor``)."""
