"""``switchyard queues``: backlog per org and queue (laned, waiting, running)."""

from __future__ import annotations

from typing import Annotated

import typer

from storage.errors import NotFoundError
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_table, runtime
from switchyard.services.queues import queue_backlog


def queues(
    org: Annotated[str | None, typer.Option(help="Organization name or id (default: all).")] = None,
) -> None:
    """Depth per queue and state for one org, or every org with jobs."""
    with runtime() as rt:
        org_id = None
        if org is not None:
            with rt.sessions() as session:
                try:
                    org_id = OrganizationRepository(session).resolve(org).id
                except NotFoundError as exc:
                    fail(f"--org: {exc}")
        backlog = queue_backlog(rt.lanes, org_id)
    rows = [
        (q.org_id, q.queue, q.laned, q.waiting, q.running, q.oldest_due_age_seconds)
        for q in backlog.queues
    ]
    caption = "laned: due, in the org's lane; waiting: not due yet; running: admitted"
    if not backlog.complete:
        caption += " (a very large waiting set was counted in part)"
    columns = ("org", "queue", "laned", "waiting", "running", "oldest due (s)")
    print_table("backlog", columns, rows, caption=caption)
