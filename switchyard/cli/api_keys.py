"""``switchyard api-keys``: keys for the HTTP API, scoped to one org or admin.

The plaintext key is printed once at creation; only its hash is stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from storage.errors import NotFoundError
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.audit import AdminAuditRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_json, print_table, runtime

app = typer.Typer(help="API keys.", no_args_is_help=True)


@app.command("create")
def create(
    org: Annotated[str | None, typer.Option(help="Organization name or id.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An admin key (all orgs).")] = False,
    name: Annotated[str, typer.Option(help="A label for operators.")] = "default",
) -> None:
    """Create a key for --org ORG or --admin; prints the key once."""
    if admin == (org is not None):
        fail("give exactly one of --org ORG or --admin")
    with runtime() as rt, rt.sessions.begin() as session:
        org_id = None
        if org is not None:
            try:
                org_id = OrganizationRepository(session).resolve(org).id
            except NotFoundError as exc:
                fail(f"--org: {exc}")
        issued = ApiKeyRepository(session).create(org_id, name)
        key, plaintext = issued.api_key, issued.key.reveal()
        AdminAuditRepository(session).record(
            "cli",
            "api_key.created",
            org_id=org_id,
            subject_type="api_key",
            subject_id=key.id,
            details={"name": name, "scope": key.scope},
        )
        print_json({"id": key.id, "scope": key.scope, "org_id": org_id, "key": plaintext})
    typer.echo("Store this key now: it is not shown again.", err=True)


@app.command("list")
def list_keys(
    org: Annotated[str | None, typer.Option(help="Only this organization's keys.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List keys (prefix, scope, status; never the key)."""
    with runtime() as rt, rt.sessions() as session:
        org_id = None
        if org is not None:
            try:
                org_id = OrganizationRepository(session).resolve(org).id
            except NotFoundError as exc:
                fail(f"--org: {exc}")
        rows = [
            {
                "id": k.id,
                "prefix": k.prefix,
                "scope": k.scope,
                "org_id": k.org_id,
                "name": k.name,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
            }
            for k in ApiKeyRepository(session).list(org_id=org_id)
        ]
    if json_output:
        print_json(rows)
    else:
        print_table(
            "API keys",
            ["id", "prefix", "scope", "org", "name", "created", "revoked"],
            [list(r.values()) for r in rows],
        )


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from api-keys list).")],
) -> None:
    """Revoke a key by id; it stops authenticating at once."""
    with runtime() as rt, rt.sessions.begin() as session:
        try:
            key = ApiKeyRepository(session).revoke(key_id)
        except NotFoundError as exc:
            fail(f"KEY_ID: {exc}")
        AdminAuditRepository(session).record(
            "cli",
            "api_key.revoked",
            org_id=key.org_id,
            subject_type="api_key",
            subject_id=key.id,
            details={},
        )
    typer.echo(f"revoked {key_id}")
