"""``/v1/jobs``: upstream apps enqueue work for their own organization and follow it.

``POST`` enqueues; ``GET /{id}`` shows a job's state, ``GET`` lists the org's recent jobs,
``DELETE /{id}`` cancels (409 once it has ended). Another org's job is 404, never 403. The
logic is :mod:`switchyard.services.jobs`, shared with ``switchyard jobs``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from contract.envelope import FieldError, InvalidJobError
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime, Principal
from switchyard.api.errors import invalid
from switchyard.api.openapi import errors_for
from switchyard.api.schemas.jobs import JobCreated, JobList, JobRequest, JobState, JobStatus
from switchyard.api.scope import acting_org
from switchyard.services import jobs as service
from switchyard.services.errors import InvalidInput

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


Filter = Annotated[str | None, Query(max_length=64)]


@router.get("", operation_id="list_jobs")
def list_jobs(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: Filter = None,
    state: JobState | None = None,
    provider: Filter = None,
    kind: Filter = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> JobList:
    """The org's jobs of the retention window, newest first (admin keys name ``org_id``)."""
    org = acting_org(principal, runtime, org_id)
    where = service.JobFilter(state=state, provider=provider, kind=kind)
    try:
        page = service.list_jobs(runtime.job_states, org, where, limit=limit, cursor=cursor)
    except InvalidInput as exc:  # its fields are query parameters: say so, as FastAPI does
        raise invalid([FieldError(f"query.{e.field}", e.message) for e in exc.errors]) from None
    jobs = [JobStatus.model_validate(v, from_attributes=True) for v in page.jobs]
    return JobList(items=jobs, next_cursor=page.next_cursor)


@router.get("/{job_id}", operation_id="get_job", responses=errors_for(404))
def get_job(job_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime) -> JobStatus:
    """A job's state: queued, waiting (why, until), running, retrying (attempt, next at),
    succeeded, dead (reason, dead job id) or cancelled; 404 when unknown or another org's."""
    view = service.get_job(runtime.job_states, job_id, _scope(principal))
    return JobStatus.model_validate(view, from_attributes=True)


@router.delete("/{job_id}", operation_id="cancel_job", responses=errors_for(404, 409))
def cancel_job(job_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime) -> JobStatus:
    """Cancel: a queued or waiting job ends ``cancelled`` and never runs; a running one gets
    ``cancel_requested`` and is not retried; an ended one answers 409."""
    view = service.cancel_job(runtime.job_states, runtime.lanes, job_id, _scope(principal))
    return JobStatus.model_validate(view, from_attributes=True)


def _scope(principal: Principal) -> str | None:
    return None if principal.is_admin else principal.org_id
