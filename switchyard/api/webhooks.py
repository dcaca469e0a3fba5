"""``/v1/webhooks``: an org's outbound webhook endpoints and deliveries.

Org keys act on their own org; admin keys name one with ``org_id`` (query parameter, or
in the body of a POST). A secret appears in exactly two answers — creating an endpoint and
rotating its secret — and never again. The logic is :mod:`switchyard.services.webhooks`,
shared with ``switchyard webhooks`` and the console.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool

from storage.types import utcnow
from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.openapi import errors_for
from switchyard.api.schemas.common import Page
from switchyard.api.schemas.webhooks import (
    Delivery,
    DeliveryReplayed,
    Endpoint,
    EndpointRequest,
    IssuedEndpoint,
    ReplayDeliveriesRequest,
    ReplayReport,
    RotateSecretRequest,
)
from switchyard.api.scope import acting_org
from switchyard.services import webhooks as admin
from switchyard.services.dead_jobs import parse_time
from switchyard.services.webhooks import replay_delivery, replay_failed

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
OrgQuery = Annotated[str | None, Query(max_length=64, description="Required with an admin key.")]
OptionalText = Annotated[str | None, Query(max_length=200)]


_org = acting_org


@router.post("/endpoints", status_code=status.HTTP_201_CREATED)
async def create_endpoint(
    body: EndpointRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> IssuedEndpoint:
    """Create an endpoint; the answer carries its ``secret`` — the only time it is shown."""
    org_id = _org(principal, runtime, body.org_id)
    fields = body.model_dump(exclude={"org_id"}, exclude_unset=True)
    issued = await run_in_threadpool(
        admin.create_endpoint,
        runtime.sessions,
        runtime.keyring,
        org_id,
        fields,
        policy=runtime.outbound_policy,
    )
    return IssuedEndpoint.model_validate(issued)


@router.get("/endpoints")
def list_endpoints(
    principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Page[Endpoint]:
    """The org's endpoints (no secrets)."""
    org = _org(principal, runtime, org_id)
    items = admin.list_endpoints(runtime.sessions, runtime.keyring, org)
    return Page[Endpoint](items=[Endpoint.model_validate(i) for i in items])


@router.get("/endpoints/{endpoint_id}")
def get_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Endpoint:
    """One endpoint (no secret)."""
    org = _org(principal, runtime, org_id)
    return Endpoint.model_validate(
        admin.get_endpoint(runtime.sessions, runtime.keyring, org, endpoint_id)
    )


@router.post("/endpoints/{endpoint_id}/disable")
def disable_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Endpoint:
    """Stop deliveries to the endpoint (reason ``manual``)."""
    org = _org(principal, runtime, org_id)
    return Endpoint.model_validate(
        admin.set_enabled(runtime.sessions, runtime.keyring, org, endpoint_id, False)
    )


@router.post("/endpoints/{endpoint_id}/enable")
def enable_endpoint(
    endpoint_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Endpoint:
    """Resume deliveries to the endpoint."""
    org = _org(principal, runtime, org_id)
    return Endpoint.model_validate(
        admin.set_enabled(runtime.sessions, runtime.keyring, org, endpoint_id, True)
    )


@router.post("/endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(
    endpoint_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
    body: RotateSecretRequest | None = None,
) -> IssuedEndpoint:
    """New secret (shown once); the old one signs too for ``grace_hours`` (default: setting)."""
    body = body or RotateSecretRequest()
    org = _org(principal, runtime, org_id or body.org_id)
    hours = body.grace_hours
    if hours is None:
        hours = runtime.settings.webhooks.rotation_grace_hours
    rotated = await run_in_threadpool(
        lambda: admin.rotate_secret(
            runtime.sessions, runtime.keyring, org, endpoint_id, grace=timedelta(hours=hours)
        )
    )
    return IssuedEndpoint.model_validate(rotated)


@router.get("/deliveries")
def list_deliveries(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
    endpoint_id: OptionalText = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    since: OptionalText = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[Delivery]:
    """Deliveries, most recently changed first; ``since`` is ISO 8601 or ``2h``/``7d`` ago."""
    org = _org(principal, runtime, org_id)
    start = parse_time("since", since, utcnow()) if since else None
    items = admin.list_deliveries(
        runtime.sessions, org, endpoint_id=endpoint_id, status=status_, since=start, limit=limit
    )
    return Page[Delivery](items=[Delivery.model_validate(i) for i in items])


@router.get("/deliveries/{delivery_id}")
def show_delivery(
    delivery_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> Delivery:
    """One delivery with its attempt log."""
    org = _org(principal, runtime, org_id)
    return Delivery.model_validate(admin.show_delivery(runtime.sessions, org, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors_for(409),
)
def replay_one(
    delivery_id: str, principal: CurrentPrincipal, runtime: CurrentRuntime, org_id: OrgQuery = None
) -> DeliveryReplayed:
    """Deliver again (a fresh round of attempts); 409 while in progress or endpoint disabled."""
    org = _org(principal, runtime, org_id)
    job_id = replay_delivery(runtime.sessions, runtime.enqueuer.enqueue, org, delivery_id)
    return DeliveryReplayed(delivery_id=delivery_id, job_id=job_id)


@router.post("/deliveries/replay", status_code=status.HTTP_202_ACCEPTED)
async def replay_since(
    body: ReplayDeliveriesRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> ReplayReport:
    """Replay every failed delivery since ``since`` (optionally of one ``endpoint_id``)."""
    org = _org(principal, runtime, body.org_id)
    endpoint_id = body.endpoint_id
    start = parse_time("since", body.since, utcnow())
    report = await run_in_threadpool(
        lambda: replay_failed(
            runtime.sessions,
            runtime.enqueuer.enqueue,
            org,
            since=start,
            endpoint_id=endpoint_id,
        )
    )
    return ReplayReport.model_validate(report.as_dict())
