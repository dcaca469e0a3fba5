"""Dead letters as an org-scoped operator sees them: :mod:`switchyard.services.dead_jobs` with the org
forced into every selection, so an org session can list, inspect, replay and purge only its
own dead jobs (another org's dead job is "not found", like one that never existed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from switchyard.services import dead_jobs as dlq

FILTERS = dlq.FILTERS
PAGE_SIZE = 50


def selection(
    sessions: sessionmaker[Session], scope_org: str | None, query: dlq.DeadJobQuery
) -> dlq.Selection:
    """The dead jobs ``query`` means, within ``scope_org`` (None: all orgs);
    :class:`~switchyard.services.dead_jobs.InvalidSelectionError` names any bad field."""
    with sessions() as session:
        chosen = dlq.parse_selection(session, query)
    if scope_org is None:
        return chosen
    return replace(chosen, where=replace(chosen.where, org_id=scope_org))


def page(sessions: sessionmaker[Session], chosen: dlq.Selection, offset: int) -> dlq.DeadJobPage:
    """One page of :data:`PAGE_SIZE` dead jobs, most recently dead first."""
    return dlq.list_dead_jobs(sessions, replace(chosen, limit=PAGE_SIZE), offset=offset)


def show(
    sessions: sessionmaker[Session], scope_org: str | None, dead_job_id: str
) -> dict[str, Any]:
    """One dead job in full; :class:`~switchyard.services.dead_jobs.UnknownDeadJobsError` when it does not
    exist or belongs to another org than ``scope_org``."""
    found = dlq.show_dead_job(sessions, dead_job_id)
    if scope_org is not None and found["org_id"] != scope_org:
        raise dlq.UnknownDeadJobsError([dead_job_id])
    return found
