"""``/v1/syncs`` and ``/v1/records``: trigger syncs, read run history, read synced records.

``POST /v1/syncs`` takes ``{"provider", "model", "mode"?, "connection"?, "org_id"?}`` and
answers 202 with ``result`` — ``enqueued``, ``duplicate`` (already queued) or
``coalesced`` (joined the live run, whose ``run_id`` is returned). ``GET /v1/syncs/runs``
lists runs newest first. ``GET /v1/records`` pages records in (updated_at, id) order with
an opaque ``cursor``, filtered by ``model``, ``provider`` + ``connection``, and
``updated_since`` (ISO 8601 with offset) — what an upstream app polls to consume changes;
``include_deleted=true`` also returns records the provider deleted (with ``deleted_at``).
Admin keys name the org with ``org_id``; org keys see only their own org.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool

from contract.envelope import FieldError
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.errors import invalid
from switchyard.api.schemas.common import Page
from switchyard.api.schemas.syncs import SyncedRecord, SyncRequest, SyncRun, SyncTriggered
from switchyard.api.scope import acting_org
from switchyard.services import syncs
from switchyard.services.syncs import SyncTarget, SyncTrigger

router = APIRouter(tags=["syncs"])
OptionalText = Annotated[str | None, Query(max_length=200)]


@router.post("/v1/syncs", status_code=status.HTTP_202_ACCEPTED)
async def trigger_sync(
    body: SyncRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> SyncTriggered:
    """Start a sync, or join the one running for the same connection and model."""
    org_id = acting_org(principal, runtime, body.org_id)
    target = SyncTarget(org_id, body.provider, body.model, body.mode, body.connection)
    done = await run_in_threadpool(
        SyncTrigger(runtime.sessions, runtime.enqueuer.enqueue).trigger, target
    )
    return SyncTriggered(result=done.result, job_id=done.job_id, run_id=done.run_id)


@router.get("/v1/syncs/runs")
def list_runs(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OptionalText = None,
    model: OptionalText = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[SyncRun]:
    """Run history of the org, newest first."""
    org = acting_org(principal, runtime, org_id)
    runs = syncs.list_runs(runtime.sessions, org, model=model, status=status_, limit=limit)
    return Page[SyncRun](items=[SyncRun.model_validate(r) for r in runs])


@router.get("/v1/records")
def list_records(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OptionalText = None,
    model: OptionalText = None,
    provider: OptionalText = None,
    connection: OptionalText = None,
    updated_since: OptionalText = None,
    include_deleted: bool = False,
    cursor: OptionalText = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[SyncedRecord]:
    """A page of synced records and the cursor of the next page (null at the end)."""
    org = acting_org(principal, runtime, org_id)
    query = syncs.RecordQuery(
        model=model,
        provider=provider,
        connection=connection or "default",
        updated_since=_since(updated_since),
        include_deleted=include_deleted,
        cursor=cursor,
        limit=limit,
    )
    page = syncs.list_records(runtime.sessions, org, query)
    items = [SyncedRecord.model_validate(r) for r in page.records]
    return Page[SyncedRecord](items=items, next_cursor=page.next_cursor)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise invalid([FieldError("updated_since", "ISO 8601 time with an offset")])
    return parsed
