"""Syncs: the models each connection can sync, recent runs (pages, counts, errors), and a
trigger — :class:`switchyard.services.syncs.SyncTrigger`, as ``POST /v1/syncs``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from providers.syncs.spec import load_sync_models
from switchyard.console.guard import (
    CheckedForm,
    ConsoleRuntime,
    SignedIn,
    audit,
    scope_org,
)
from switchyard.console.web import first, render
from switchyard.runtime import Runtime
from switchyard.service_deps import connection_deps
from switchyard.services import syncs
from switchyard.services.connections import records
from switchyard.services.syncs import SyncTarget, SyncTrigger

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
    done = SyncTrigger(runtime.sessions, runtime.enqueuer.enqueue).trigger(target)
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
        for c in records.list_connections(connection_deps(runtime), org)
    ]
    runs = syncs.list_runs(runtime.sessions, org, limit=RUNS_SHOWN)
    return {"title": "Syncs", "org_id": org, "connections": connections, "runs": runs}
