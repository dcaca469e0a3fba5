"""``switchyard orgs``: organizations (tenants) that own connections and jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from storage.errors import ConflictError, InvalidFieldError
from storage.repositories.audit import AdminAuditRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_json, print_table, runtime

app = typer.Typer(help="Organizations.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A slug: lowercase letters, digits, dashes.")],
    weight: Annotated[int, typer.Option(min=1, max=1000, help="Fair-admission weight.")] = 1,
) -> None:
    """Create an organization and print its id."""
    with runtime() as rt, rt.sessions.begin() as session:
        try:
            org = OrganizationRepository(session).create(name, weight=weight)
        except (ConflictError, InvalidFieldError) as exc:
            fail(f"NAME: {exc}")
        AdminAuditRepository(session).record(
            "cli",
            "org.created",
            org_id=org.id,
            subject_type="organization",
            subject_id=org.id,
            details={"name": name},
        )
        print_json({"id": org.id, "name": org.name, "weight": org.weight})


@app.command("list")
def list_orgs(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List organizations."""
    with runtime() as rt, rt.sessions() as session:
        orgs = OrganizationRepository(session).list()
        rows = [
            {"id": o.id, "name": o.name, "weight": o.weight, "created_at": o.created_at}
            for o in orgs
        ]
    if json_output:
        print_json(rows)
    else:
        print_table(
            "Organizations", ["id", "name", "weight", "created"], [list(r.values()) for r in rows]
        )
