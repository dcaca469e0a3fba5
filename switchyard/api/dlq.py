"""``/v1/dlq``: the dead-letter queue. Admin keys see every org's; an org key lists, shows
and replays its own dead jobs only (another org's are unknown to it: 404, so ids do not
leak); purge stays admin (org keys get 403).

``GET /v1/dlq`` lists with the CLI's filters as query parameters (``org``, ``provider``,
``kind``, ``error_class``, ``since``, ``until``, ``id`` repeatable, ``limit``, ``offset``);
``GET /v1/dlq/{id}`` shows one; ``POST /v1/dlq/replay`` and ``POST /v1/dlq/purge`` take
``{"ids": [...]}``, ``{"filter": {...same names...}}`` or ``{"all": true}``, and an optional
``limit``. The logic is :mod:`switchyard.services.dead_jobs`, shared with ``switchyard dlq``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from contract.envelope import FieldError
from switchyard.api.auth import AdminPrincipal, CurrentPrincipal, CurrentRuntime, Principal
from switchyard.api.errors import invalid
from switchyard.api.openapi import errors_for
from switchyard.api.schemas.dlq import (
    DeadJob,
    DeadJobPage,
    DeadJobSelection,
    DeadJobsPurged,
    DeadJobsReplayed,
)
from switchyard.runtime import Runtime
from switchyard.services import dead_jobs as dlq

router = APIRouter(prefix="/v1/dlq", tags=["dead-letter queue"])
FILTER_FIELDS = dlq.FILTERS

OptionalText = Annotated[str | None, Query(max_length=200)]


@router.get("")
def list_dead_jobs(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org: OptionalText = None,
    provider: OptionalText = None,
    kind: OptionalText = None,
    error_class: OptionalText = None,
    since: OptionalText = None,
    until: OptionalText = None,
    dead_job_ids: Annotated[list[str] | None, Query(alias="id", max_length=1000)] = None,
    limit: OptionalText = None,
    offset: OptionalText = None,
) -> DeadJobPage:
    """A page of dead jobs, most recently dead first, with ``total`` and ``next_offset``."""
    start = _offset(offset)
    with runtime.sessions() as session:
        query = dlq.DeadJobQuery(
            org=org,
            provider=provider,
            kind=kind,
            error_class=error_class,
            since=since,
            until=until,
            ids=tuple(dead_job_ids or ()),
            limit=limit,
        )
        selection = dlq.scoped_selection(session, query, _scope(principal))
    page = dlq.list_dead_jobs(runtime.sessions, selection, offset=start)
    next_cursor = None if page.next_offset is None else str(page.next_offset)
    return DeadJobPage(
        items=[DeadJob.model_validate(item) for item in page.items],
        next_cursor=next_cursor,
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.get("/{dead_job_id}")
def show_dead_job(
    dead_job_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> DeadJob:
    """One dead job in full (envelope, traceback summary), or 404 naming the id."""
    found = dlq.show_dead_job(runtime.sessions, dead_job_id, _scope(principal))
    return DeadJob.model_validate(found)


@router.post("/replay", operation_id="replay_dead_jobs", responses=errors_for(404))
async def replay(
    selection: DeadJobSelection, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> DeadJobsReplayed:
    """Replay dead jobs as new jobs: ``replayed`` (dead id -> new job id) and ``refused``.
    An org key replays its own only (``all``: all of its own)."""

    def run() -> dict[str, Any]:
        chosen = _body_selection(runtime, selection, verb="replay", principal=principal)
        report = dlq.replay(
            runtime.sessions, runtime.enqueuer.enqueue, chosen, actor=principal.actor
        )
        return report.as_dict()

    return DeadJobsReplayed.model_validate(await run_in_threadpool(run))


@router.post("/purge", operation_id="purge_dead_jobs", responses=errors_for(404))
async def purge(
    selection: DeadJobSelection, principal: AdminPrincipal, runtime: CurrentRuntime
) -> DeadJobsPurged:
    """Delete dead jobs for good: ``{"purged": [ids], "count": n}``; audited."""

    def run() -> dict[str, Any]:
        chosen = _body_selection(runtime, selection, verb="purge")
        return dlq.purge(runtime.sessions, chosen, actor=principal.actor).as_dict()

    return DeadJobsPurged.model_validate(await run_in_threadpool(run))


def _body_selection(
    runtime: Runtime, body: DeadJobSelection, *, verb: str, principal: Principal | None = None
) -> dlq.Selection:
    """The selection a replay/purge body names, fields named as in the body (``filter.kind``).
    For an org key it is narrowed to the org's own dead jobs (another org's ids: 404)."""
    where = body.filter.model_dump() if body.filter else {}
    query = dlq.DeadJobQuery.of(where, ids=body.ids, limit=body.limit)
    with runtime.sessions() as session:
        try:
            selection = dlq.scoped_selection(
                session, query, _scope(principal), everything=body.all, verb=verb
            )
        except dlq.InvalidSelectionError as exc:
            raise dlq.InvalidSelectionError(
                [FieldError(_body_field(e.field), e.message) for e in exc.errors]
            ) from None
    return selection


def _scope(principal: Principal | None) -> str | None:
    """The org a caller is confined to: an org key's own; None for an admin key."""
    return None if principal is None or principal.is_admin else principal.org_id


def _body_field(field: str) -> str:
    if field in FILTER_FIELDS:
        return f"filter.{field}"
    return "ids" if field == "id" else field


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise invalid([FieldError("offset", f"{raw!r} must be a non-negative integer")])
    return int(raw)
