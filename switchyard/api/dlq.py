"""``/v1/dlq``: the dead-letter queue for operators (admin keys only; org keys get 403).

``GET /v1/dlq`` lists with the CLI's filters as query parameters (``org``, ``provider``,
``kind``, ``error_class``, ``since``, ``until``, ``id`` repeatable, ``limit``, ``offset``);
``GET /v1/dlq/{id}`` shows one; ``POST /v1/dlq/replay`` and ``POST /v1/dlq/purge`` take
``{"ids": [...]}``, ``{"filter": {...same names...}}`` or ``{"all": true}``, and an optional
``limit``. The logic is :mod:`producers.replay`, shared with ``switchyard dlq``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from producers import replay as dlq
from switchyard.api.auth import AdminPrincipal, CurrentRuntime
from switchyard.api.body import field_errors, read_json_object
from switchyard.app import Runtime
from workers.envelope import FieldError

router = APIRouter(prefix="/v1/dlq", tags=["dead-letter queue"])
FILTER_FIELDS = ("org", "provider", "kind", "error_class", "since", "until")
BODY_FIELDS = frozenset({"ids", "filter", "limit", "all"})

OptionalText = Annotated[str | None, Query()]


@router.get("")
def list_dead_jobs(
    principal: AdminPrincipal,
    runtime: CurrentRuntime,
    org: OptionalText = None,
    provider: OptionalText = None,
    kind: OptionalText = None,
    error_class: OptionalText = None,
    since: OptionalText = None,
    until: OptionalText = None,
    dead_job_ids: Annotated[list[str] | None, Query(alias="id")] = None,
    limit: OptionalText = None,
    offset: OptionalText = None,
) -> dict[str, Any]:
    """A page of dead jobs, most recently dead first, with ``total`` and ``next_offset``."""
    start = _offset(offset)
    with _mapped_errors(), runtime.sessions() as session:
        selection = dlq.parse_selection(
            session,
            org=org,
            provider=provider,
            kind=kind,
            error_class=error_class,
            since=since,
            until=until,
            ids=dead_job_ids,
            limit=limit,
        )
    page = dlq.list_dead_jobs(runtime.sessions, selection, offset=start)
    return {
        "items": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


@router.get("/{dead_job_id}")
def show_dead_job(
    dead_job_id: str, principal: AdminPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """One dead job in full (envelope, traceback summary), or 404 naming the id."""
    with _mapped_errors():
        return dlq.show_dead_job(runtime.sessions, dead_job_id)


@router.post("/replay")
async def replay(
    request: Request, principal: AdminPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Replay dead jobs as new jobs: ``replayed`` (dead id -> new job id) and ``refused``."""
    data = await read_json_object(request, runtime.settings.api.max_body_bytes)

    def run() -> dict[str, Any]:
        selection = _body_selection(runtime, data, verb="replay")
        report = dlq.replay(
            runtime.sessions, runtime.enqueuer.enqueue, selection, actor=principal.actor
        )
        return report.as_dict()

    with _mapped_errors():
        return await run_in_threadpool(run)


@router.post("/purge")
async def purge(
    request: Request, principal: AdminPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Delete dead jobs for good: ``{"purged": [ids], "count": n}``; audited."""
    data = await read_json_object(request, runtime.settings.api.max_body_bytes)

    def run() -> dict[str, Any]:
        selection = _body_selection(runtime, data, verb="purge")
        return dlq.purge(runtime.sessions, selection, actor=principal.actor).as_dict()

    with _mapped_errors():
        return await run_in_threadpool(run)


def _body_selection(runtime: Runtime, data: dict[str, Any], *, verb: str) -> dlq.Selection:
    """The selection a replay/purge body names; 422 naming the field when malformed."""
    errors = [FieldError(name, "unknown field") for name in sorted(set(data) - BODY_FIELDS)]
    ids = data.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        errors.append(FieldError("ids", "must be a list of dead job ids"))
        ids = []
    where = data.get("filter") or {}
    if not isinstance(where, dict):
        errors.append(FieldError("filter", "must be an object"))
        where = {}
    errors.extend(
        FieldError(f"filter.{name}", "unknown field")
        for name in sorted(set(where) - set(FILTER_FIELDS))
    )
    errors.extend(
        FieldError(f"filter.{name}", "must be a string")
        for name in FILTER_FIELDS
        if where.get(name) is not None and not isinstance(where[name], str)
    )
    everything = data.get("all", False)
    if not isinstance(everything, bool):
        errors.append(FieldError("all", "must be true or false"))
    limit = data.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        errors.append(FieldError("limit", "must be an integer"))
    if errors:
        raise dlq.InvalidSelectionError(errors)
    with runtime.sessions() as session:
        try:
            selection = dlq.parse_selection(
                session, ids=ids, limit=limit, **{name: where.get(name) for name in FILTER_FIELDS}
            )
        except dlq.InvalidSelectionError as exc:
            raise dlq.InvalidSelectionError(
                [FieldError(_body_field(e.field), e.message) for e in exc.errors]
            ) from None
    dlq.require_scope(selection, everything=everything, verb=verb)
    return selection


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Selection errors -> 422 naming the field; unknown dead jobs -> 404 naming the ids."""
    try:
        yield
    except dlq.InvalidSelectionError as exc:
        raise field_errors(exc.errors) from None
    except dlq.UnknownDeadJobsError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _body_field(field: str) -> str:
    if field in FILTER_FIELDS:
        return f"filter.{field}"
    return "ids" if field == "id" else field


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise field_errors([FieldError("offset", f"{raw!r} must be a non-negative integer")])
    return int(raw)
