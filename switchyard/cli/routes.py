"""``switchyard routes``: an org's event routes — list, create, delete, test (dry run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from storage.errors import NotFoundError
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_json, print_table, runtime
from switchyard.runtime import Runtime
from switchyard.services import routes

app = typer.Typer(help="Event routes: event type -> action pipeline.", no_args_is_help=True)

Org = Annotated[str, typer.Option("--org", help="Organization name or id.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _org(rt: Runtime, org: str) -> str:
    with rt.sessions() as session:
        try:
            return OrganizationRepository(session).resolve(org).id
        except NotFoundError:
            fail(f"--org: no organization {org!r}")


def _json_argument(text: str, option: str) -> Any:
    """Inline JSON, or @path to a JSON file."""
    try:
        raw = Path(text[1:]).read_text() if text.startswith("@") else text
        return json.loads(raw)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{option}: not valid JSON ({exc})")


@app.command("list")
def list_routes(org: Org, json_output: JsonOutput = False) -> None:
    """List the org's routes."""
    with runtime() as rt:
        items = routes.list_routes(rt.sessions, _org(rt, org))
    if json_output:
        print_json(items)
        return
    rows = [
        [
            r["name"],
            r["event_type"],
            " -> ".join(f"{s['provider']}.{s['action']}" for s in r["steps"]),
            r["enabled"],
        ]
        for r in items
    ]
    print_table("Routes", ["name", "event type", "steps", "enabled"], rows)


@app.command("actions")
def actions(
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    json_output: JsonOutput = False,
) -> None:
    """List the actions route steps (and action jobs) can call, with their input fields."""
    from workers.actions import all_actions, generic_actions

    rows = [
        {
            "provider": a.provider,
            "action": a.name,
            "inputs": sorted(f.alias or n for n, f in a.input.model_fields.items()),
            "required": sorted(
                f.alias or n for n, f in a.input.model_fields.items() if f.is_required()
            ),
            "description": a.description,
        }
        for a in [*all_actions(), *generic_actions()]
        if provider is None or a.provider in (provider, "*")
    ]
    if json_output:
        print_json(rows)
        return
    print_table(
        "Actions",
        ["provider", "action", "required inputs", "description"],
        [[r["provider"], r["action"], ", ".join(r["required"]), r["description"]] for r in rows],
    )


@app.command("create")
def create(
    org: Org,
    definition: Annotated[str, typer.Argument(help="Route JSON, or @file.json.")],
) -> None:
    """Validate and save a route; every problem is reported with its field."""
    data = _json_argument(definition, "DEFINITION")
    if not isinstance(data, dict):
        fail("DEFINITION: must be a JSON object")
    with runtime() as rt:
        print_json(routes.create_route(rt.sessions, rt.catalog, _org(rt, org), data))


@app.command("delete")
def delete(org: Org, route: Annotated[str, typer.Argument(help="Route name or id.")]) -> None:
    """Delete a route."""
    with runtime() as rt:
        routes.delete_route(rt.sessions, _org(rt, org), route)
    typer.echo(f"deleted route {route}")


@app.command("test")
def test(
    org: Org,
    route: Annotated[str, typer.Argument(help="Route name or id.")],
    data: Annotated[str, typer.Option("--data", help="Sample event data: JSON or @file.")] = "{}",
    publish: Annotated[
        bool, typer.Option("--publish", help="Also publish the event for real (the route fires).")
    ] = False,
) -> None:
    """Dry-run a route on sample event data; with --publish, fire it."""
    sample = _json_argument(data, "--data")
    if not isinstance(sample, dict):
        fail("--data: must be a JSON object")
    with runtime() as rt:
        org_id = _org(rt, org)
        result = routes.dry_run_route(rt.sessions, org_id, route, sample)
        if publish:
            event_type = routes.show_route(rt.sessions, org_id, route)["event_type"]
            published = rt.event_publisher.publish(org_id, event_type, sample)
            result["published"] = {"event_id": published.event_id, "jobs": published.jobs}
    print_json(result)
