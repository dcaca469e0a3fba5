"""``switchyard dlq``: inspect, replay and purge the dead-letter queue of every org.

The logic lives in :mod:`switchyard.services.dead_jobs`, shared with the HTTP API; this module turns
options into a selection, errors into exit code 2 naming the option, and results into text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from storage.models.dead_job import DeadJob
from switchyard.cli.common import expand_prefix, fail, print_json, print_table, refusals, runtime
from switchyard.cli.jobs import EMBEDDED_ENQUEUE
from switchyard.cli.progress import progress
from switchyard.runtime import Runtime
from switchyard.services import dead_jobs as dlq

app = typer.Typer(help="The dead-letter queue: list, show, replay, purge.", no_args_is_help=True)

ACTOR = "cli"
Org = Annotated[str | None, typer.Option("--org", help="Organization name or id.")]
Provider = Annotated[str | None, typer.Option("--provider", help="Provider name.")]
Kind = Annotated[str | None, typer.Option("--kind", help="refresh|sync|action|deliver|inbound")]
ErrorClass = Annotated[
    str | None, typer.Option("--error-class", help="e.g. permanent, transient, unsupported.")
]
Since = Annotated[
    str | None,
    typer.Option("--since", help="Dead at or after: ISO 8601 with offset, or 30m, 2h, 7d ago."),
]
Until = Annotated[str | None, typer.Option("--until", help="Dead before (same forms as --since).")]
Ids = Annotated[list[str] | None, typer.Option("--id", help="A dead job id (repeatable).")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Everything = Annotated[
    bool, typer.Option("--all", help="Act on every dead job: required when no filter is given.")
]


@app.command("list")
def list_dead_jobs(
    org: Org = None,
    provider: Provider = None,
    kind: Kind = None,
    error_class: ErrorClass = None,
    since: Since = None,
    until: Until = None,
    dead_job_id: Ids = None,
    limit: Annotated[int, typer.Option("--limit", help="Page size.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    json_output: JsonOutput = False,
) -> None:
    """List dead jobs, most recently dead first."""
    with runtime() as rt, refusals(options=True):
        with rt.sessions() as session:
            query = dlq.DeadJobQuery(
                org=org,
                provider=provider,
                kind=kind,
                error_class=error_class,
                since=since,
                until=until,
                ids=tuple(_full_ids(rt, dead_job_id) or ()),
                limit=limit,
            )
            selection = dlq.parse_selection(session, query)
        page = dlq.list_dead_jobs(rt.sessions, selection, offset=offset)
    if json_output:
        print_json(
            {
                "items": page.items,
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "next_offset": page.next_offset,
            }
        )
        return
    rows = [
        [
            item["id"],
            item["provider"],
            item["kind"],
            item["error_class"],
            item["attempts"],
            item["dead_at"][:19].replace("T", " "),
            item["replay_count"] or "",
        ]
        for item in page.items
    ]
    first = page.offset + 1 if page.items else 0
    print_table(
        f"Dead jobs {first}-{page.offset + len(page.items)} of {page.total} (times in UTC)",
        ["id", "provider", "kind", "error", "attempts", "dead at", "replays"],
        rows,
    )


@app.command("show")
def show(
    dead_job_id: Annotated[str, typer.Argument(help="Dead job id, or a unique prefix of it.")],
    json_output: JsonOutput = False,
) -> None:
    """Show one dead job in full: envelope, error, traceback summary, attempts, times."""
    with runtime() as rt, refusals(options=True):
        dead_job_id = expand_prefix(rt.sessions, DeadJob.id, dead_job_id, "DEAD_JOB_ID")
        data = dlq.show_dead_job(rt.sessions, dead_job_id)
    if json_output:
        print_json(data)
        return
    envelope = data.pop("envelope")
    traceback_summary = data.pop("traceback_summary")
    print_table(f"Dead job {dead_job_id}", ["field", "value"], list(data.items()))
    print_json(envelope)
    if traceback_summary:
        typer.echo(traceback_summary)


@app.command("replay")
def replay(
    org: Org = None,
    provider: Provider = None,
    kind: Kind = None,
    error_class: ErrorClass = None,
    since: Since = None,
    until: Until = None,
    dead_job_id: Ids = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Replay at most this many.")] = None,
    everything: Everything = False,
    json_output: JsonOutput = False,
) -> None:
    """Re-enqueue dead jobs as new jobs (fresh attempts); by filter, skips ones already replayed.

    Exits 1 when some dead jobs were refused (their envelope is no longer valid).
    """
    with runtime() as rt, refusals(options=True):
        with rt.sessions() as session:
            query = dlq.DeadJobQuery(
                org=org,
                provider=provider,
                kind=kind,
                error_class=error_class,
                since=since,
                until=until,
                ids=tuple(_full_ids(rt, dead_job_id) or ()),
                limit=limit,
            )
            selection = dlq.parse_selection(session, query)
        dlq.require_scope(selection, everything=everything, verb="replay")
        _require_broker(rt)
        with progress("replaying", _selected_count(rt, selection)) as advance:

            def enqueue(job: Mapping[str, Any]) -> Any:
                result = rt.enqueuer.enqueue(job)
                advance(1)
                return result

            report = dlq.replay(rt.sessions, enqueue, selection, actor=ACTOR)
    if json_output:
        print_json(report.as_dict())
    else:
        typer.echo(f"replayed {len(report.replayed)} dead job(s)")
        for done in report.replayed:
            typer.echo(f"  {done.dead_job_id} -> new job {done.job_id}")
        if report.refused:
            typer.echo(f"refused {len(report.refused)} dead job(s)")
            for refused in report.refused:
                typer.echo(f"  {refused.dead_job_id}: {refused.reason}")
    if report.refused:
        raise typer.Exit(1)


@app.command("purge")
def purge(
    org: Org = None,
    provider: Provider = None,
    kind: Kind = None,
    error_class: ErrorClass = None,
    since: Since = None,
    until: Until = None,
    dead_job_id: Ids = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Purge at most this many.")] = None,
    everything: Everything = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOutput = False,
) -> None:
    """Delete dead jobs for good (audited); asks for confirmation unless --yes."""
    with runtime() as rt, refusals(options=True):
        with rt.sessions() as session:
            query = dlq.DeadJobQuery(
                org=org,
                provider=provider,
                kind=kind,
                error_class=error_class,
                since=since,
                until=until,
                ids=tuple(_full_ids(rt, dead_job_id) or ()),
                limit=limit,
            )
            selection = dlq.parse_selection(session, query)
        dlq.require_scope(selection, everything=everything, verb="purge")
        count = _selected_count(rt, selection)
        if not yes:
            typer.confirm(f"Purge {count} dead job(s) for good?", abort=True)
        with progress("purging", count) as advance:
            report = dlq.purge(rt.sessions, selection, actor=ACTOR, advance=advance)
    if json_output:
        print_json(report.as_dict())
        return
    typer.echo(f"purged {len(report.purged)} dead job(s)")
    for purged_id in report.purged:
        typer.echo(f"  {purged_id}")


def _selected_count(rt: Runtime, selection: dlq.Selection) -> int:
    """How many dead jobs ``selection`` picks: the progress bar's total, the prompt's count."""
    total = dlq.list_dead_jobs(rt.sessions, selection).total
    return total if selection.limit is None else min(total, selection.limit)


def _full_ids(rt: Runtime, ids: list[str] | None) -> list[str] | None:
    """``--id`` values, each a full id or a unique prefix of one."""
    if not ids:
        return ids
    return [expand_prefix(rt.sessions, DeadJob.id, given, "--id") for given in ids]


def _require_broker(rt: Runtime) -> None:
    """A replay from this shell needs a shared Redis: the embedded broker dies with us."""
    if rt.settings.embedded:
        fail(EMBEDDED_ENQUEUE)
