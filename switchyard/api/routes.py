"""``/v1/routes``: an org's event routes (org keys act on their org; admin keys name one).

``GET /v1/routes``, ``POST /v1/routes`` (422 naming every bad field: unknown actions, bad
templates, inputs the action refuses, missing connections; 409 for a taken name),
``GET|DELETE /v1/routes/{name or id}``, ``POST /v1/routes/{name or id}/test`` with
``{"data": {...}}`` for a dry run. The logic is :mod:`producers.routes`, shared with the CLI.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from producers import routes
from storage.errors import ConflictError, NotFoundError
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.body import field_errors, read_json_object
from workers.envelope import FieldError

router = APIRouter(prefix="/v1/routes", tags=["routes"])


@router.get("")
def list_routes(
    principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: str | None = Query(None)
) -> dict[str, Any]:
    """The org's routes by name."""
    return {"items": routes.list_routes(runtime.sessions, principal.org_for(org_id))}


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_route(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Validate and store a route; 422 lists every problem with its field."""
    body = await read_json_object(request, runtime.settings.api.max_body_bytes)
    org_id = principal.org_for(body.pop("org_id", None))
    try:
        return await run_in_threadpool(
            routes.create_route, runtime.sessions, runtime.catalog, org_id, body
        )
    except routes.InvalidRouteError as exc:
        raise field_errors(exc.errors) from None
    except ConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


@router.get("/{ref}")
def show_route(
    ref: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: str | None = Query(None)
) -> dict[str, Any]:
    """One route by name or id."""
    try:
        return routes.show_route(runtime.sessions, principal.org_for(org_id), ref)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT)
def delete_route(
    ref: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: str | None = Query(None)
) -> Response:
    """Delete a route; events published afterwards no longer start it."""
    try:
        routes.delete_route(runtime.sessions, principal.org_for(org_id), ref)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{ref}/test")
async def test_route(
    ref: str, request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Dry run against sample event data: does it match, what would each step receive."""
    body = await read_json_object(request, runtime.settings.api.max_body_bytes)
    org_id = principal.org_for(body.get("org_id"))
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise field_errors([FieldError("data", "must be a JSON object")])
    try:
        return routes.dry_run_route(runtime.sessions, org_id, ref, data)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
