"""``switchyard connections``: list, show, check, disconnect and import an org's connections.

The logic is :mod:`switchyard.services.connections`, shared with ``/v1/connections``; this
module resolves names (``--org`` by name or id, a connection by id or ``provider[/name]``),
lets :func:`switchyard.cli.common.refusals` turn refusals into one line naming the field,
and prints tables or ``--json``. Nothing printed here ever holds a secret.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from storage.errors import NotFoundError
from storage.models.connection import Connection
from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import expand_prefix, fail, print_json, print_table, refusals, runtime
from switchyard.cli.progress import Advance, progress
from switchyard.runtime import Runtime
from switchyard.service_deps import connection_deps
from switchyard.services.connections import check as checks
from switchyard.services.connections import records
from switchyard.services.connections.importer import import_lines

app = typer.Typer(help="Connections: list, show, check, disconnect, import.", no_args_is_help=True)

ACTOR = "cli"
Org = Annotated[str, typer.Option("--org", help="Organization name or id.")]
Ref = Annotated[
    str, typer.Argument(help="Connection id (or a unique prefix of it), or provider[/name].")
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]
COLUMNS = ("id", "provider", "name", "status", "auth", "expires_at", "error")


@app.command("list")
def list_connections(
    org: Org,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    json_output: JsonOutput = False,
) -> None:
    """List an org's connections."""
    with runtime() as rt, refusals():
        views = records.list_connections(connection_deps(rt), _org_id(rt, org), provider=provider)
    if json_output:
        print_json({"items": views})
        return
    print_table(f"connections of {org}", COLUMNS, [_row(v) for v in views])


@app.command("show")
def show(org: Org, ref: Ref, json_output: JsonOutput = False) -> None:
    """Show one connection (status, account identifier, credential expiry; no secrets)."""
    with runtime() as rt, refusals():
        org_id = _org_id(rt, org)
        view = records.show_connection(connection_deps(rt), org_id, _connection_id(rt, org_id, ref))
    if json_output:
        print_json(view)
        return
    print_table(f"connection {view['id']}", ("field", "value"), _fields(view))


@app.command("check")
def check(org: Org, ref: Ref, json_output: JsonOutput = False) -> None:
    """Validate a connection with the catalog's cheap authenticated call; exit 1 if it fails."""
    with runtime() as rt, refusals():
        org_id = _org_id(rt, org)
        result = checks.check_connection(
            connection_deps(rt), org_id, _connection_id(rt, org_id, ref)
        )
    if json_output:
        print_json(result.as_dict())
    else:
        verdict = "ok" if result.ok else "FAILED"
        typer.echo(f"{result.provider} {result.connection_id}: {verdict} ({result.detail})")
    if not result.ok:
        raise typer.Exit(1)


@app.command("disconnect")
def disconnect(org: Org, ref: Ref, json_output: JsonOutput = False) -> None:
    """Disconnect: forget the secrets; the connection's jobs park until it is reconnected."""
    with runtime() as rt, refusals():
        org_id = _org_id(rt, org)
        view = records.disconnect(
            connection_deps(rt), org_id, _connection_id(rt, org_id, ref), actor=ACTOR
        )
    if json_output:
        print_json(view)
    else:
        typer.echo(f"disconnected {view['provider']}/{view['name']} ({view['id']})")


@app.command("import")
def import_file(
    file: Annotated[str, typer.Argument(help="JSON lines file, or - for stdin.")],
    json_output: JsonOutput = False,
) -> None:
    """Import tokens from another system (see docs/credentials.md); exit 1 if a line is refused."""
    with runtime() as rt, progress("importing", _count_lines(file)) as advance:
        report = import_lines(
            connection_deps(rt), _counted(_lines(file), advance), actor=f"{ACTOR}:import"
        )
    if json_output:
        print_json(report.as_dict())
    else:
        for refused in report.refused:
            typer.echo(f"line {refused['line']}: refused: {refused['field']}: {refused['reason']}")
        typer.echo(f"imported {len(report.imported)}, refused {len(report.refused)}")
    if report.refused:
        raise typer.Exit(1)


def _count_lines(file: str) -> int | None:
    """Lines in FILE (the bar's total), or None for stdin or a missing file."""
    path = Path(file)
    if file == "-" or not path.is_file():
        return None
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _counted(lines: Iterator[str], advance: Advance) -> Iterator[str]:
    """``lines``, advancing the progress bar once each line has been handled."""
    for line in lines:
        yield line
        advance(1)


def _lines(file: str) -> Iterator[str]:
    if file == "-":
        yield from sys.stdin
        return
    path = Path(file)
    if not path.is_file():
        fail(f"FILE: no such file {file!r}")
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle


def _org_id(rt: Runtime, org: str) -> str:
    with rt.sessions() as session:
        try:
            return OrganizationRepository(session).resolve(org).id
        except NotFoundError:
            fail(f"--org: no organization {org!r}")


def _connection_id(rt: Runtime, org_id: str, ref: str) -> str:
    """The connection ``ref`` names: its id, a unique prefix of one, or provider[/name]."""
    scope = Connection.org_id == org_id
    ref = expand_prefix(rt.sessions, Connection.id, ref, "CONNECTION", scope=scope)
    provider, _, name = ref.partition("/")
    with rt.sessions() as session:
        connections = ConnectionRepository(session, org_id)
        try:
            return connections.get(ref).id
        except NotFoundError:
            pass
        try:
            return connections.get_by_provider(provider, name or "default").id
        except NotFoundError:
            fail(f"CONNECTION: no connection {ref!r} in this org")


def _row(view: dict[str, Any]) -> list[Any]:
    credential = view["credential"] or {}
    return [
        view["id"],
        view["provider"],
        view["name"],
        view["status"],
        credential.get("auth_mode", "-"),
        credential.get("expires_at"),
        view["error_message"],
    ]


def _fields(view: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        (key, view[key]) for key in view if key not in ("credential", "account_identifier")
    ]
    rows += [(f"account.{k}", v) for k, v in view["account_identifier"].items()]
    rows += [(f"credential.{k}", v) for k, v in (view["credential"] or {}).items()]
    return rows
