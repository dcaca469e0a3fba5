"""``POST /v1/jobs``: upstream apps enqueue work for their own organization."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.body import field_errors, read_json_object
from workers.envelope import FieldError, InvalidJobError

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
CLIENT_FIELDS = frozenset(
    {
        "kind",
        "org_id",
        "provider",
        "connection",
        "payload",
        "idempotency_key",
        "priority",
        "not_before",
        "correlation_id",
    }
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_job(
    request: Request, response: Response, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, object]:
    """Enqueue a job: 201 with its id, 200 with the first job's id for a repeated key."""
    data = await read_json_object(request, runtime.settings.api.max_body_bytes)
    data["org_id"] = principal.org_for(data.get("org_id"))
    unknown = sorted(set(data) - CLIENT_FIELDS)
    if unknown:
        raise field_errors([FieldError(name, "unknown field") for name in unknown])
    try:
        result = await run_in_threadpool(runtime.enqueuer.enqueue, data)
    except InvalidJobError as exc:
        raise field_errors(exc.errors) from None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return {"id": result.job_id, "duplicate": result.duplicate}
