"""``/v1/webhooks``: an org's outbound webhook endpoints and deliveries.

Org keys act on their own org; admin keys name one with ``org_id`` (query parameter, or
in the body of a POST). A secret appears in exactly two answers — creating an endpoint and
rotating its secret — and never again. The logic is :mod:`producers.webhook_admin` and
:mod:`producers.webhook_replay`, shared with ``switchyard webhooks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from producers import webhook_admin as admin
from producers.replay import InvalidSelectionError, parse_time
from producers.webhook_replay import ReplayRefusedError, replay_delivery, replay_failed
from storage.errors import InvalidFieldError, NotFoundError
from storage.types import utcnow
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.body import field_errors, read_json_object
from workers.envelope import FieldError

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
OrgQuery = Annotated[str | None, Query(description="Required with an admin key.")]
OptionalText = Annotated[str | None, Query()]


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Repository and selection errors become 404 / 409 / 422 naming the field."""
    try:
        yield
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except InvalidFieldError as exc:
        raise field_errors([FieldError(exc.field, exc.problem)]) from None
    except InvalidSelectionError as exc:
        raise field_errors(exc.errors) from None
    except ReplayRefusedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


def _org(principal: CurrentPrincipal, runtime: CurrentRuntime, requested: Any) -> str:
    """The org acted on: the key's own, or the one an admin key names (which must exist)."""
    org = principal.org_for(requested if isinstance(requested, str) else None)
    if runtime.enqueuer.org_weight(org) is None:
        raise field_errors([FieldError("org_id", f"unknown organization {org!r}")])
    return org


async def _body(request: Request, runtime: CurrentRuntime) -> dict[str, Any]:
    return await read_json_object(request, runtime.settings.api.max_body_bytes)


@router.post("/endpoints", status_code=status.HTTP_201_CREATED)
async def create_endpoint(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Create an endpoint; the answer carries its ``secret`` — the only time it is shown."""
    body = await _body(request, runtime)
    org_id = _org(principal, runtime, body.pop("org_id", None))
    with _mapped_errors():
        return await run_in_threadpool(
            admin.create_endpoint,
            runtime.sessions,
            runtime.keyring,
            org_id,
            body,
            policy=runtime.outbound_policy,
        )


@router.get("/endpoints")
def list_endpoints(
    principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """The org's endpoints (no secrets)."""
    org = _org(principal, runtime, org_id)
    return {"items": admin.list_endpoints(runtime.sessions, runtime.keyring, org)}


@router.get("/endpoints/{endpoint_id}")
def get_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """One endpoint (no secret)."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        return admin.get_endpoint(runtime.sessions, runtime.keyring, org, endpoint_id)


@router.post("/endpoints/{endpoint_id}/disable")
def disable_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """Stop deliveries to the endpoint (reason ``manual``)."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        return admin.set_enabled(runtime.sessions, runtime.keyring, org, endpoint_id, False)


@router.post("/endpoints/{endpoint_id}/enable")
def enable_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """Resume deliveries to the endpoint."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        return admin.set_enabled(runtime.sessions, runtime.keyring, org, endpoint_id, True)


@router.post("/endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(
    endpoint_id: str,
    request: Request,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> dict[str, Any]:
    """New secret (shown once); the old one signs too for ``grace_hours`` (default: setting)."""
    body = await _body(request, runtime) if await request.body() else {}
    org = _org(principal, runtime, org_id or body.get("org_id"))
    hours = body.get("grace_hours", runtime.settings.webhooks.rotation_grace_hours)
    if not isinstance(hours, int | float) or isinstance(hours, bool):
        raise field_errors([FieldError("grace_hours", "must be a number of hours")])
    with _mapped_errors():
        return await run_in_threadpool(
            lambda: admin.rotate_secret(
                runtime.sessions,
                runtime.keyring,
                org,
                endpoint_id,
                grace=timedelta(hours=hours),
            )
        )


@router.get("/deliveries")
def list_deliveries(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
    endpoint_id: OptionalText = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    since: OptionalText = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Deliveries, most recently changed first; ``since`` is ISO 8601 or ``2h``/``7d`` ago."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        start = parse_time("since", since, utcnow()) if since else None
        items = admin.list_deliveries(
            runtime.sessions, org, endpoint_id=endpoint_id, status=status_, since=start, limit=limit
        )
    return {"items": items}


@router.get("/deliveries/{delivery_id}")
def show_delivery(
    delivery_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """One delivery with its attempt log."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        return admin.show_delivery(runtime.sessions, org, delivery_id)


@router.post("/deliveries/{delivery_id}/replay", status_code=status.HTTP_202_ACCEPTED)
def replay_one(
    delivery_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> dict[str, Any]:
    """Deliver again (a fresh round of attempts); 409 while in progress or endpoint disabled."""
    org = _org(principal, runtime, org_id)
    with _mapped_errors():
        job_id = replay_delivery(runtime.sessions, runtime.enqueuer.enqueue, org, delivery_id)
    return {"delivery_id": delivery_id, "job_id": job_id}


@router.post("/deliveries/replay", status_code=status.HTTP_202_ACCEPTED)
async def replay_since(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Replay every failed delivery since ``since`` (optionally of one ``endpoint_id``)."""
    body = await _body(request, runtime)
    org = _org(principal, runtime, body.get("org_id"))
    since, endpoint_id = body.get("since"), body.get("endpoint_id")
    if not isinstance(since, str):
        raise field_errors([FieldError("since", "required: ISO 8601 time or 30m, 2h, 7d ago")])
    if endpoint_id is not None and not isinstance(endpoint_id, str):
        raise field_errors([FieldError("endpoint_id", "must be a string")])
    with _mapped_errors():
        start = parse_time("since", since, utcnow())
        report = await run_in_threadpool(
            lambda: replay_failed(
                runtime.sessions,
                runtime.enqueuer.enqueue,
                org,
                since=start,
                endpoint_id=endpoint_id,
            )
        )
    return report.as_dict()
