"""``POST /v1/jobs:batch``: many jobs in one request, answered item by item."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from producers.enqueue import MAX_BATCH
from switchyard.api.errors import ErrorDetail
from switchyard.api.schemas.common import Answer, RequestBody


class JobBatchRequest(RequestBody):
    """Up to 1,000 jobs (and the API's body size limit); each is checked on its own, so one
    malformed job is refused alone (as ``JobRequest``, in its item), not the whole batch."""

    jobs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"At most {MAX_BATCH} jobs, each as for `POST /v1/jobs`.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/JobRequest"}},
    )


class JobBatchItem(Answer):
    """One job's outcome: its id (``duplicate`` for a repeated key), or why it was refused."""

    index: int = Field(description="Position of the job in the request's `jobs`.")
    id: str | None = Field(default=None, description="The job's id; null when refused.")
    duplicate: bool | None = Field(
        default=None, description="True when the key was seen: `id` is the first job's id."
    )
    error: ErrorDetail | None = Field(
        default=None, description="The one error shape's `error`, naming each field at fault."
    )


class JobBatchResult(Answer):
    """Partial success is explicit: ``accepted`` + ``rejected`` = jobs sent."""

    accepted: int = Field(description="Jobs enqueued or deduplicated (they have an `id`).")
    rejected: int = Field(description="Jobs refused (they have an `error`).")
    items: list[JobBatchItem]
