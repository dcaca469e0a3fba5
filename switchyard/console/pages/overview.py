"""Overview: backlog per queue (admin) and per org and queue, and per organization recent
throughput, failure rate, deferrals, dead letters and connections, each linking into its
list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from switchyard.console.guard import ConsoleRuntime, SignedIn
from switchyard.console.web import render
from switchyard.services import overview, queues

router = APIRouter()


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, session: SignedIn, runtime: ConsoleRuntime) -> Response:
    """Everything scoped by the session's org (an admin session sees every org)."""
    backlog = queues.queue_backlog(runtime.lanes, session.org_id)
    orgs = overview.org_health(runtime.sessions, session.org_id)
    activity = overview.recent_activity(runtime.job_states, [org.org_id for org in orgs])
    names = {org.org_id: org.org_name for org in orgs}
    context = {
        "title": "Overview",
        "totals": overview.queue_totals(backlog) if session.is_admin else [],
        "backlog": backlog,
        "names": names,
        "dead": overview.dead_by_queue(runtime.sessions, session.org_id),
        "orgs": orgs,
        "activity": activity,
        "recent_minutes": int(overview.RECENT.total_seconds() // 60),
    }
    return render(request, "overview/index.html", context, session=session)
