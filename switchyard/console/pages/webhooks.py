"""Webhooks: endpoints (URL masked, status, disabled reason) with disable/enable, and
deliveries with every attempt's status and timing, replayable. The logic is
:mod:`switchyard.services.webhooks`, as for ``/v1/webhooks``; secrets are never read here (endpoint views carry none)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from switchyard.console.guard import (
    CheckedForm,
    ConsoleRuntime,
    PageProblem,
    SignedIn,
    audit,
    scope_org,
)
from switchyard.console.web import first, query, render
from switchyard.services import webhooks as admin
from switchyard.services.webhooks import replay_delivery

router = APIRouter(prefix="/webhooks")
DELIVERIES_SHOWN = 50


@router.get("", response_class=HTMLResponse)
def webhooks_page(
    request: Request,
    session: SignedIn,
    runtime: ConsoleRuntime,
    org_id: str | None = None,
    endpoint_id: str | None = None,
) -> Response:
    """The org's endpoints and its latest deliveries (optionally of one endpoint)."""
    org = scope_org(session, org_id)
    endpoints = admin.list_endpoints(runtime.sessions, runtime.keyring, org)
    deliveries = admin.list_deliveries(
        runtime.sessions, org, endpoint_id=endpoint_id or None, limit=DELIVERIES_SHOWN
    )
    context = {
        "title": "Webhooks",
        "org_id": org,
        "endpoints": endpoints,
        "deliveries": deliveries,
    }
    return render(request, "webhooks/index.html", context, session=session)


@router.post("/endpoints/{endpoint_id}/{verb}")
def set_enabled(
    endpoint_id: str, verb: str, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """``enable`` (a disabled endpoint, whatever disabled it) or ``disable`` (manually)."""
    if verb not in ("enable", "disable"):
        raise PageProblem(404, f"no action {verb[:20]!r} on endpoints")
    org = scope_org(session, first(form, "org_id"))
    admin.set_enabled(runtime.sessions, runtime.keyring, org, endpoint_id, verb == "enable")
    subject = ("webhook_endpoint", endpoint_id)
    audit(runtime, session, f"webhook_endpoint.{verb}d", org_id=org, subject=subject)
    back = "/console/webhooks?" + query(org_id=None if session.org_id else org)
    return RedirectResponse(back.rstrip("?"), status_code=303)


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery_page(
    delivery_id: str,
    request: Request,
    session: SignedIn,
    runtime: ConsoleRuntime,
    org_id: str | None = None,
) -> Response:
    """One delivery and its attempt log."""
    org = scope_org(session, org_id)
    delivery = admin.show_delivery(runtime.sessions, org, delivery_id)
    context = {"title": f"Delivery {delivery_id}", "delivery": delivery, "org_id": org}
    return render(request, "webhooks/delivery.html", context, session=session)


@router.post("/deliveries/{delivery_id}/replay", response_class=HTMLResponse)
def replay(
    delivery_id: str,
    request: Request,
    session: SignedIn,
    form: CheckedForm,
    runtime: ConsoleRuntime,
) -> Response:
    """Deliver again (a fresh round of attempts); refused while in progress or disabled."""
    org = scope_org(session, first(form, "org_id"))
    job_id = replay_delivery(runtime.sessions, runtime.enqueuer.enqueue, org, delivery_id)
    delivery = admin.show_delivery(runtime.sessions, org, delivery_id)
    subject = ("webhook_delivery", delivery_id)
    audit(runtime, session, "webhook_delivery.replayed", org_id=org, subject=subject)
    context = {
        "title": f"Delivery {delivery_id}",
        "delivery": delivery,
        "org_id": org,
        "done": f"Replay queued as job {job_id}.",
    }
    return render(request, "webhooks/delivery.html", context, session=session)
