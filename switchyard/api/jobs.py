"""``POST /v1/jobs``: upstream apps enqueue work for their own organization."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.errors import invalid
from switchyard.api.schemas.jobs import JobCreated, JobRequest
from switchyard.api.scope import acting_org
from workers.envelope import InvalidJobError

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": JobCreated, "description": "A repeated idempotency key."}},
)
async def create_job(
    job: JobRequest, response: Response, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> JobCreated:
    """Enqueue a job: 201 with its id, 200 with the first job's id for a repeated key."""
    data = job.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    data["org_id"] = acting_org(principal, runtime, job.org_id)
    try:
        result = await run_in_threadpool(runtime.enqueuer.enqueue, data)
    except InvalidJobError as exc:
        raise invalid(exc.errors) from None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return JobCreated(id=result.job_id, duplicate=result.duplicate)
