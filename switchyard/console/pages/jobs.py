"""Jobs: look one up by id, list an org's recent jobs (server-side pages by cursor), read a
job's timeline, cancel it. Every read and the cancel are :mod:`switchyard.services.jobs`,
the functions ``/v1/jobs`` calls; the cancel is audited with the console session as actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from queueing.job_state import STATES
from switchyard.console.guard import (
    CheckedForm,
    ConsoleRuntime,
    SignedIn,
    audit,
    scope_org,
)
from switchyard.console.sessions import ConsoleSession
from switchyard.console.web import render
from switchyard.services import jobs as service
from switchyard.services.job_views import JobView
from switchyard.services.overview import org_choices

router = APIRouter(prefix="/jobs")
FILTERS = ("state", "provider", "kind")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Step:
    """One line of a job's timeline: when, what, and the detail that explains it."""

    at: str | None
    label: str
    detail: str = ""
    link: str | None = None


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request,
    session: SignedIn,
    runtime: ConsoleRuntime,
    org_id: str | None = None,
    id: str | None = None,
    cursor: str | None = None,
) -> Response:
    """A page of the org's jobs matching the filters; ``id`` jumps to that job's page. An
    admin session without an org gets the look-up and the orgs to list."""
    if id and id.strip():
        return RedirectResponse(f"/console/jobs/{quote(id.strip(), safe='')}", status_code=303)
    if session.is_admin and not org_id:
        orgs = org_choices(runtime.sessions)
        return render(request, "jobs/find.html", {"title": "Jobs", "orgs": orgs}, session=session)
    org = scope_org(session, org_id)
    filters = {name: request.query_params.get(name) or None for name in FILTERS}
    where = service.JobFilter(**filters)
    found = service.list_jobs(runtime.job_states, org, where, limit=PAGE_SIZE, cursor=cursor)
    context = {
        "title": "Jobs",
        "page": found,
        "filters": filters,
        "org_id": org,
        "states": STATES,
        "first_page": cursor is None,
    }
    return render(request, "jobs/list.html", context, session=session)


@router.get("/{job_id}", response_class=HTMLResponse)
def detail_page(
    job_id: str, request: Request, session: SignedIn, runtime: ConsoleRuntime
) -> Response:
    """One job: its facts and its timeline, with a cancel button while it can be cancelled."""
    view = service.get_job(runtime.job_states, job_id, session.org_id)
    return _job_page(request, session, view)


@router.post("/{job_id}/cancel", response_class=HTMLResponse)
def cancel(
    job_id: str, request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """Cancel the job (as ``DELETE /v1/jobs/{id}``) and show the state it answered."""
    view = service.cancel_job(runtime.job_states, runtime.lanes, job_id, session.org_id)
    action = "job.cancelled" if view.state == "cancelled" else "job.cancel_requested"
    details = {"state": view.state}
    audit(runtime, session, action, org_id=view.org_id, subject=("job", job_id), details=details)
    return _job_page(request, session, view, cancelled=True)


def _job_page(
    request: Request, session: ConsoleSession, view: JobView, *, cancelled: bool = False
) -> Response:
    context = {
        "title": f"Job {view.id}",
        "job": view,
        "steps": timeline(view),
        "cancellable": view.state not in ("succeeded", "dead", "cancelled"),
        "cancelled_now": cancelled,
    }
    return render(request, "jobs/detail.html", context, session=session)


def timeline(view: JobView) -> list[Step]:
    """What happened to the job so far, oldest first, read from its state."""
    steps = [Step(_iso(view.enqueued_at), "Enqueued", f"queue {view.queue}")]
    if view.started_at is not None:
        steps.append(Step(_iso(view.started_at), "Started", f"attempt {view.attempts}"))
    steps.extend(_now_steps(view))
    return steps


def _now_steps(view: JobView) -> list[Step]:
    """The current state's step(s): waiting, retrying, running, or how it ended."""
    if view.waiting is not None:
        until = _iso(view.waiting.until)
        return [Step(None, "Waiting", f"{view.waiting.reason} until {until}")]
    if view.retry is not None:
        error = view.retry.error_class or "error"
        failed = Step(None, f"Attempt {view.retry.attempt} failed", error)
        return [failed, Step(_iso(view.retry.next_at), "Retry scheduled", "next attempt")]
    if view.state in ("queued", "running"):
        note = "cancel requested" if view.cancel_requested else ""
        return [Step(None, view.state.capitalize(), note)]
    return [_outcome(view)]


def _outcome(view: JobView) -> Step:
    at = _iso(view.finished_at)
    if view.dead is not None:
        link = f"/console/dead-letters/{view.dead.dead_job_id}" if view.dead.dead_job_id else None
        return Step(at, "Dead", view.dead.reason, link)
    result = ", ".join(f"{k}={v}" for k, v in (view.result or {}).items())
    return Step(at, view.state.capitalize(), result)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
