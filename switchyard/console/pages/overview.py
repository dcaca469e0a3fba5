"""Overview: backlog per queue (admin), and per organization dead letters and connections,
each linking into its list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from switchyard.console.guard import ConsoleRuntime, SignedIn
from switchyard.console.web import render
from switchyard.services import overview

router = APIRouter()


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, session: SignedIn, runtime: ConsoleRuntime) -> Response:
    """Queues (lane counters are shared by every org, so admin sessions only) and orgs."""
    queues = overview.queue_backlog(runtime.lanes) if session.is_admin else {}
    context = {
        "title": "Overview",
        "queues": queues,
        "dead": overview.dead_by_queue(runtime.sessions, session.org_id),
        "orgs": overview.org_health(runtime.sessions, session.org_id),
        "recent_minutes": int(overview.RECENT.total_seconds() // 60),
    }
    return render(request, "overview/index.html", context, session=session)
