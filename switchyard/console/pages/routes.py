"""Routes: list an org's event routes and test one with a sample event (a dry run: nothing
is sent). The logic is :mod:`switchyard.services.routes`, as for ``/v1/routes``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from switchyard.console.guard import (
    CheckedForm,
    ConsoleRuntime,
    PageProblem,
    SignedIn,
    audit,
    scope_org,
)
from switchyard.console.web import first, render
from switchyard.runtime import Runtime
from switchyard.services import routes

router = APIRouter(prefix="/routes")


@router.get("", response_class=HTMLResponse)
def routes_page(
    request: Request, session: SignedIn, runtime: ConsoleRuntime, org_id: str | None = None
) -> Response:
    """The org's routes by name."""
    org = scope_org(session, org_id)
    items = routes.list_routes(runtime.sessions, org)
    context = {"title": "Routes", "items": items, "org_id": org}
    return render(request, "routes/list.html", context, session=session)


@router.get("/{ref}", response_class=HTMLResponse)
def route_page(
    ref: str,
    request: Request,
    session: SignedIn,
    runtime: ConsoleRuntime,
    org_id: str | None = None,
) -> Response:
    """One route, with a form to test it against sample event data."""
    org = scope_org(session, org_id)
    return render(request, "routes/detail.html", _context(runtime, org, ref), session=session)


@router.post("/{ref}/test", response_class=HTMLResponse)
def test_route(
    ref: str, request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """Dry-run the route on the sample (a JSON object): does it match, what each step gets."""
    org = scope_org(session, first(form, "org_id"))
    sample = first(form, "data") or "{}"
    context = _context(runtime, org, ref)
    try:
        data = json.loads(sample)
    except json.JSONDecodeError as exc:
        raise PageProblem(422, f"data: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise PageProblem(422, "data: must be a JSON object")
    context["sample"] = sample
    context["dry_run"] = routes.dry_run_route(runtime.sessions, org, ref, data)
    subject = ("route", context["route"]["id"])
    audit(runtime, session, "route.tested", org_id=org, subject=subject)
    return render(request, "routes/detail.html", context, session=session)


def _context(runtime: Runtime, org: str, ref: str) -> dict[str, Any]:
    route = routes.show_route(runtime.sessions, org, ref)
    return {"title": f"Route {route['name']}", "route": route, "org_id": org, "sample": "{}"}
