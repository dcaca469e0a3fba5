"""``/v1/routes``: an org's event routes (org keys act on their org; admin keys name one).

``GET /v1/routes``, ``POST /v1/routes`` (422 naming every bad field: unknown actions, bad
templates, inputs the action refuses, missing connections; 409 for a taken name),
``GET|DELETE /v1/routes/{name or id}``, ``POST /v1/routes/{name or id}/test`` with
``{"data": {...}}`` for a dry run. The logic is :mod:`switchyard.services.routes`, shared
with the CLI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.openapi import errors_for
from switchyard.api.schemas.common import Page
from switchyard.api.schemas.routes import Route, RouteDryRun, RouteRequest, RouteTestRequest
from switchyard.api.scope import acting_org
from switchyard.services import routes

router = APIRouter(prefix="/v1/routes", tags=["routes"])
OrgQuery = Annotated[str | None, Query(max_length=64, description="Required with an admin key.")]


@router.get("")
def list_routes(
    principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Page[Route]:
    """The org's routes by name."""
    items = routes.list_routes(runtime.sessions, acting_org(principal, runtime, org_id))
    return Page[Route](items=[Route.model_validate(i) for i in items])


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors_for(409))
async def create_route(
    body: RouteRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Route:
    """Validate and store a route; 422 lists every problem with its field."""
    org_id = acting_org(principal, runtime, body.org_id)
    data = body.model_dump(exclude={"org_id"}, exclude_unset=True)
    created = await run_in_threadpool(
        routes.create_route, runtime.sessions, runtime.catalog, org_id, data
    )
    return Route.model_validate(created)


@router.get("/{ref}")
def show_route(
    ref: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Route:
    """One route by name or id."""
    org = acting_org(principal, runtime, org_id)
    return Route.model_validate(routes.show_route(runtime.sessions, org, ref))


@router.delete(
    "/{ref}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={204: {"description": "Deleted."}},
)
def delete_route(
    ref: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Response:
    """Delete a route; events published afterwards no longer start it."""
    org = acting_org(principal, runtime, org_id)
    routes.delete_route(runtime.sessions, org, ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{ref}/test")
async def test_route(
    ref: str, body: RouteTestRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> RouteDryRun:
    """Dry run against sample event data: does it match, what would each step receive."""
    org_id = acting_org(principal, runtime, body.org_id)
    return RouteDryRun.model_validate(
        routes.dry_run_route(runtime.sessions, org_id, ref, body.data)
    )
