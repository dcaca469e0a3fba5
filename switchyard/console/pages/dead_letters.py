"""Dead letters: filter and page through them, inspect one, replay one or a selection,
purge with a confirmation step. Replays and purges are audited by
:mod:`switchyard.services.dead_jobs` itself (``dlq.replayed``, ``dlq.purged``), with the console session as the actor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from switchyard.console.guard import CheckedForm, ConsoleRuntime, PageProblem, SignedIn
from switchyard.console.sessions import ConsoleSession
from switchyard.console.web import first, render
from switchyard.runtime import Runtime
from switchyard.services import dead_jobs as dlq

router = APIRouter(prefix="/dead-letters")
PAGE_SIZE = 50


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request, session: SignedIn, runtime: ConsoleRuntime, offset: int = 0
) -> Response:
    """A page of dead letters matching the filters in the query string."""
    filters = {name: request.query_params.get(name) for name in dlq.FILTERS}
    query = dlq.DeadJobQuery.of(filters, limit=PAGE_SIZE)
    chosen = _scoped(runtime, session, query)
    found = dlq.list_dead_jobs(runtime.sessions, chosen, offset=max(0, offset))
    context = {"title": "Dead letters", "page": found, "filters": filters}
    return render(request, "dead-letters/list.html", context, session=session)


@router.get("/{dead_job_id}", response_class=HTMLResponse)
def detail_page(
    dead_job_id: str, request: Request, session: SignedIn, runtime: ConsoleRuntime
) -> Response:
    """One dead letter: envelope, error, traceback summary, attempts, replay history."""
    dead = dlq.show_dead_job(runtime.sessions, dead_job_id, session.org_id)
    context = {"title": f"Dead letter {dead_job_id}", "dead": dead}
    return render(request, "dead-letters/detail.html", context, session=session)


@router.post("/replay", response_class=HTMLResponse)
def replay(
    request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """Replay the checked dead letters (or every one matching the filters)."""
    chosen = _chosen(runtime, session, form)
    enqueue = runtime.enqueuer.enqueue
    report = dlq.replay(runtime.sessions, enqueue, chosen, actor=session.actor).as_dict()
    context = {"title": "Replayed", "report": report}
    return render(request, "dead-letters/replayed.html", context, session=session)


@router.post("/purge", response_class=HTMLResponse)
def purge(
    request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """Ask for confirmation (how many, which), then purge for good once confirmed."""
    chosen = _chosen(runtime, session, form)
    if first(form, "confirm") != "yes":
        count = dlq.list_dead_jobs(runtime.sessions, chosen).total
        context = {"title": "Confirm purge", "count": count, "form": form}
        return render(request, "dead-letters/confirm_purge.html", context, session=session)
    report = dlq.purge(runtime.sessions, chosen, actor=session.actor).as_dict()
    context = {"title": "Purged", "count": report["count"]}
    return render(request, "dead-letters/purged.html", context, session=session)


def _chosen(runtime: Runtime, session: ConsoleSession, form: dict[str, list[str]]) -> dlq.Selection:
    """What a replay/purge form names: checked ids, or the filters (``scope=filter``)."""
    ids = [i for i in form.get("id", []) if i.strip()]
    filters = {name: first(form, name) for name in dlq.FILTERS}
    by_filter = first(form, "scope") == "filter"
    if not ids and not by_filter:
        raise PageProblem(422, "id: tick at least one dead letter, or act on the filter.")
    query = dlq.DeadJobQuery.of(filters if by_filter else {}, ids=ids)
    chosen = _scoped(runtime, session, query)
    dlq.require_scope(chosen, everything=False, verb=first(form, "verb") or "act on")
    return chosen


def _scoped(runtime: Runtime, session: ConsoleSession, query: dlq.DeadJobQuery) -> dlq.Selection:
    """The dead jobs ``query`` means, within the session's org (an admin's: every org)."""
    with runtime.sessions() as db:
        return dlq.scoped_selection(db, query, session.org_id)
