"""Syncs: the models each connection can sync, recent runs (pages, counts, errors), and a
trigger — :class:`producers.syncs.SyncTrigger`, as ``POST /v1/syncs``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from contract.envelope import InvalidJobError
from producers.syncs import SyncTarget, SyncTrigger
from providers.syncs.spec import load_sync_models
from storage.repositories.syncs import SyncRepository
from switchyard.connections import records
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
from switchyard.sync_views import run_view

router = APIRouter(prefix="/syncs")
RUNS_SHOWN = 50


@router.get("", response_class=HTMLResponse)
def syncs_page(
    request: Request, session: SignedIn, runtime: ConsoleRuntime, org_id: str | None = None
) -> Response:
    """Models per connection and the latest runs of the org."""
    org = scope_org(session, org_id)
    return render(request, "syncs/index.html", _context(runtime, org), session=session)


@router.post("/trigger", response_class=HTMLResponse)
def trigger(
    request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """Start a sync of one connection's model, or join the one running."""
    org = scope_org(session, first(form, "org_id"))
    provider, _, name = (first(form, "connection") or "").partition("/")
    target = SyncTarget(
        org,
        provider,
        first(form, "model") or "",
        first(form, "mode") or "incremental",
        name or "default",
    )
    try:
        done = SyncTrigger(runtime.sessions, runtime.enqueuer).trigger(target)
    except InvalidJobError as exc:
        raise PageProblem(422, str(exc)) from None
    details = {"provider": provider, "model": target.model, "result": done.result}
    audit(
        runtime,
        session,
        "sync.triggered",
        org_id=org,
        subject=("job", done.job_id) if done.job_id else None,
        details=details,
    )
    context = {**_context(runtime, org), "triggered": done}
    return render(request, "syncs/index.html", context, session=session)


def _context(runtime: Runtime, org: str) -> dict[str, Any]:
    models = load_sync_models()
    connections = [
        {**c, "models": models.models_of(c["provider"])}
        for c in records.list_connections(runtime, org)
    ]
    with runtime.sessions() as db:
        runs = [run_view(r) for r in SyncRepository(db, org).runs(limit=RUNS_SHOWN)]
    return {"title": "Syncs", "org_id": org, "connections": connections, "runs": runs}
