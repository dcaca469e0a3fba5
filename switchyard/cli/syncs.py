"""``switchyard syncs``: sync definitions, manual triggers, run history and schedules.

Triggers and schedules go through :mod:`switchyard.services.syncs`, shared with the HTTP API, so a
trigger while a run is live is coalesced into it from here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from providers.syncs import load_sync_models
from storage.errors import NotFoundError
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_json, print_table, refusals, runtime
from switchyard.cli.jobs import EMBEDDED_ENQUEUE
from switchyard.runtime import Runtime
from switchyard.services import syncs
from switchyard.services.sync_views import schedule_view
from switchyard.services.syncs import SyncTarget, SyncTrigger, set_schedule

app = typer.Typer(
    help="Syncs: definitions, triggers, run history, schedules.", no_args_is_help=True
)

Org = Annotated[str, typer.Option("--org", help="Organization name or id.")]
OptionalOrg = Annotated[str | None, typer.Option("--org", help="Organization name or id.")]
Provider = Annotated[str, typer.Option("--provider", help="Provider name.")]
Model = Annotated[str, typer.Option("--model", help="Model, e.g. contacts.")]
Mode = Annotated[str, typer.Option("--mode", help="incremental | full")]
Connection = Annotated[str, typer.Option("--connection", help="Connection name.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@contextmanager
def _org(rt: Runtime, org: str) -> Iterator[str]:
    with rt.sessions() as session:
        try:
            yield OrganizationRepository(session).resolve(org).id
        except NotFoundError as exc:
            fail(f"--org: {exc}")


@app.command("list")
def list_syncs(org: OptionalOrg = None, as_json: JsonOutput = False) -> None:
    """The sync definitions; with --org, that org's syncs and where each stands."""
    if org is None:
        rows = [
            [s.provider, s.model, s.incremental.style if s.incremental else "full only", s.path]
            for s in load_sync_models()
        ]
        if as_json:
            print_json(
                [
                    dict(zip(("provider", "model", "incremental", "path"), r, strict=True))
                    for r in rows
                ]
            )
        else:
            print_table("Sync definitions", ["provider", "model", "incremental", "path"], rows)
        return
    with runtime() as rt, _org(rt, org) as org_id:
        states = syncs.sync_states(rt.sessions, org_id)
    if as_json:
        print_json(states)
    else:
        columns = ["provider", "connection", "model", "status", "last_success_at"]
        print_table("Syncs", columns, [[s[c] for c in columns] for s in states])


@app.command()
def trigger(
    org: Org,
    provider: Provider,
    model: Model,
    mode: Mode = "incremental",
    connection: Connection = "default",
) -> None:
    """Start a sync now, or join the running one (coalesced)."""
    with runtime() as rt:
        if rt.settings.embedded:
            fail(EMBEDDED_ENQUEUE)
        with _org(rt, org) as org_id, refusals(options=True):
            done = SyncTrigger(rt.sessions, rt.enqueuer.enqueue).trigger(
                SyncTarget(org_id, provider, model, mode, connection)
            )
    print_json({"result": done.result, "job_id": done.job_id, "run_id": done.run_id})


@app.command()
def runs(
    org: Org,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Most runs to show.")] = 20,
    as_json: JsonOutput = False,
) -> None:
    """Run history, newest first: status, counts, pages, duration, error."""
    with runtime() as rt, _org(rt, org) as org_id:
        found = syncs.list_runs(rt.sessions, org_id, model=model, provider=provider, limit=limit)
    if as_json:
        print_json(found)
        return
    columns = ["id", "provider", "model", "mode", "status", "added", "updated", "deleted"]
    columns += ["unchanged", "pages", "duration_ms", "error"]
    print_table("Sync runs", columns, [[r[c] for c in columns] for r in found])


def parse_every(value: str) -> int:
    """``3600``, ``90s``, ``15m``, ``2h``, ``1d`` as seconds; exits 2 naming --every."""
    match = _DURATION.match(value.strip())
    if match is None:
        fail(f"--every: {value!r} is not a duration such as 900, 15m, 2h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


@app.command()
def schedule(
    org: Org,
    provider: Provider,
    model: Model,
    every: Annotated[
        str | None, typer.Option("--every", help="Interval: 900, 15m, 2h, 1d.")
    ] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="5-field cron, UTC.")] = None,
    mode: Mode = "incremental",
    connection: Connection = "default",
    disable: Annotated[
        bool, typer.Option("--disable", help="Keep it, but stop running it.")
    ] = False,
) -> None:
    """Create or replace the schedule of a connection's model (interval or cron)."""
    if (every is None) == (cron is None):
        fail("--every/--cron: give exactly one")
    interval = parse_every(every) if every is not None else None
    with runtime() as rt, _org(rt, org) as org_id, refusals(options=True):
        saved = set_schedule(
            rt.sessions,
            SyncTarget(org_id, provider, model, mode, connection),
            interval_seconds=interval,
            cron=cron,
            enabled=not disable,
        )
    print_json(schedule_view(saved))


@app.command()
def schedules(org: Org, as_json: JsonOutput = False) -> None:
    """The org's sync schedules."""
    with runtime() as rt, _org(rt, org) as org_id:
        found = syncs.list_schedules(rt.sessions, org_id)
    if as_json:
        print_json(found)
        return
    columns = ["provider", "model", "mode", "interval_seconds", "cron", "enabled", "next_due_at"]
    print_table("Sync schedules", columns, [[s[c] for c in columns] for s in found])
