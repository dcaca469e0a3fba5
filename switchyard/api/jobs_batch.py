"""``POST /v1/jobs:batch``: up to 1,000 jobs in one request and one Redis round trip.

Each job is checked on its own, exactly as ``POST /v1/jobs`` checks one: the valid ones are
enqueued, the others answered with the error ``POST /v1/jobs`` would have given, per item.
The answer is 200 whenever the batch itself was readable, with ``accepted`` and ``rejected``
counts; a batch over the limit is refused as a whole (422 naming ``jobs``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from contract.envelope import FieldError, InvalidJobError
from producers.enqueue import BatchResult, Enqueued
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime, Principal
from switchyard.api.errors import CODES, ApiError, ErrorDetail, ErrorField, fields_of, invalid
from switchyard.api.schemas.jobs import JobRequest
from switchyard.api.schemas.jobs_batch import JobBatchItem, JobBatchRequest, JobBatchResult
from switchyard.api.scope import acting_org
from switchyard.runtime import Runtime

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(":batch")
async def create_jobs(
    batch: JobBatchRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> JobBatchResult:
    """Enqueue up to 1,000 jobs: per-item ids or errors, with accepted/rejected counts."""
    return await run_in_threadpool(_enqueue_batch, batch.jobs, principal, runtime)


def _enqueue_batch(
    jobs: list[dict[str, Any]], principal: Principal, runtime: Runtime
) -> JobBatchResult:
    scoped: list[dict[str, Any] | ApiError] = [_scoped(j, principal, runtime) for j in jobs]
    sendable = [item for item in scoped if not isinstance(item, ApiError)]
    results = iter(runtime.enqueuer.enqueue_many(sendable))
    items = [
        _item(index, item if isinstance(item, ApiError) else next(results))
        for index, item in enumerate(scoped)
    ]
    accepted = sum(1 for item in items if item.error is None)
    return JobBatchResult(accepted=accepted, rejected=len(items) - accepted, items=items)


def _scoped(
    raw: dict[str, Any], principal: Principal, runtime: Runtime
) -> dict[str, Any] | ApiError:
    """The job as the enqueuer takes it, for the org the key may act on (or its refusal)."""
    try:
        job = JobRequest.model_validate(raw)
    except ValidationError as exc:
        return invalid(fields_of(exc.errors(include_url=False)))
    data = job.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    try:
        data["org_id"] = acting_org(principal, runtime, job.org_id)
    except ApiError as exc:
        return exc
    except HTTPException as exc:  # the key's org check: 403, or 422 naming org_id
        if isinstance(exc.detail, list):
            return invalid([FieldError(str(d["field"]), str(d["message"])) for d in exc.detail])
        return ApiError(exc.status_code, str(exc.detail))
    return data


def _item(index: int, outcome: BatchResult | ApiError) -> JobBatchItem:
    if isinstance(outcome, Enqueued):
        return JobBatchItem(index=index, id=outcome.job_id, duplicate=outcome.duplicate)
    failure = invalid(outcome.errors) if isinstance(outcome, InvalidJobError) else outcome
    error = ErrorDetail(
        code=CODES.get(failure.status, "error"),
        message=failure.message,
        fields=[ErrorField(field=f.field, message=f.message) for f in failure.fields],
    )
    return JobBatchItem(index=index, error=error)
