"""``switchyard webhooks``: an org's outbound webhook endpoints and deliveries.

The logic is :mod:`switchyard.services.webhooks`, shared with ``/v1/webhooks``. A secret
is printed by ``endpoints create`` and ``endpoints rotate-secret`` only — store it then; nothing prints it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from storage.errors import NotFoundError
from storage.models.webhook import WebhookDelivery, WebhookEndpoint
from storage.repositories.organizations import OrganizationRepository
from storage.types import utcnow
from switchyard.cli.common import expand_prefix, fail, print_json, print_table, refusals, runtime
from switchyard.cli.jobs import EMBEDDED_ENQUEUE
from switchyard.cli.progress import progress
from switchyard.runtime import Runtime
from switchyard.services import webhooks as admin
from switchyard.services.dead_jobs import parse_time
from switchyard.services.webhooks import (
    MAX_REPLAY,
    replay_delivery,
    replay_failed,
)

app = typer.Typer(help="Outbound webhooks: endpoints and deliveries.", no_args_is_help=True)
endpoints = typer.Typer(help="Endpoints: list, create, disable, enable, rotate-secret.")
deliveries = typer.Typer(help="Deliveries: list, replay.")
app.add_typer(endpoints, name="endpoints", no_args_is_help=True)
app.add_typer(deliveries, name="deliveries", no_args_is_help=True)

Org = Annotated[str, typer.Option("--org", help="Organization name or id.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EndpointId = Annotated[
    str, typer.Argument(help="Endpoint id (from webhooks endpoints list), or a unique prefix.")
]
SECRET_NOTE = "Store this secret now: it will not be shown again."  # noqa: S105


@contextmanager
def _org_runtime(org: str) -> Iterator[tuple[Runtime, str]]:
    """A runtime and the org's id; bad input exits 2 naming the option."""
    with runtime() as rt:
        with rt.sessions() as session:
            try:
                org_id = OrganizationRepository(session).resolve(org).id
            except NotFoundError as exc:
                fail(f"--org: {exc}")
        with refusals(options=True):
            yield rt, org_id


def _endpoint_id(rt: Runtime, org_id: str, given: str, what: str = "ENDPOINT_ID") -> str:
    """The org's endpoint id that ``given`` is, or is a unique prefix of."""
    scope = WebhookEndpoint.org_id == org_id
    return expand_prefix(rt.sessions, WebhookEndpoint.id, given, what, scope=scope)


def _delivery_id(rt: Runtime, org_id: str, given: str) -> str:
    """The org's delivery id that ``given`` is, or is a unique prefix of."""
    scope = WebhookDelivery.org_id == org_id
    return expand_prefix(rt.sessions, WebhookDelivery.id, given, "DELIVERY_ID", scope=scope)


def _replay_since(
    rt: Runtime, org_id: str, since: datetime, endpoint_id: str | None
) -> dict[str, Any]:
    """Replay the failed deliveries changed since ``since``, with a progress bar."""
    total = len(
        admin.list_deliveries(
            rt.sessions,
            org_id,
            endpoint_id=endpoint_id,
            status="failed",
            since=since,
            limit=MAX_REPLAY,
        )
    )
    with progress("replaying", total) as advance:

        def enqueue(job: Mapping[str, Any]) -> Any:
            result = rt.enqueuer.enqueue(job)
            advance(1)
            return result

        report = replay_failed(rt.sessions, enqueue, org_id, since=since, endpoint_id=endpoint_id)
    return report.as_dict()


def _show_endpoints(items: list[dict[str, Any]], json_output: bool, title: str) -> None:
    if json_output:
        print_json(items if title == "Endpoints" else items[0])
        return
    rows = [
        [
            e["id"],
            e["url"],
            ",".join(e["event_types"]) or "*",
            "yes" if e["enabled"] else f"no ({e['disabled_reason']})",
            e["max_concurrency"] or "",
            e["rate_limit_per_second"] or "",
            e["description"],
        ]
        for e in items
    ]
    columns = ["id", "url", "events", "enabled", "concurrency", "rate/s", "description"]
    print_table(title, columns, rows)


def _show_secret(view: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print_json(view)
        return
    _show_endpoints([view], False, "Endpoint")
    typer.echo(f"secret: {view['secret']}")
    typer.echo(SECRET_NOTE)


@endpoints.command("list")
def list_endpoints(org: Org, json_output: JsonOutput = False) -> None:
    """List the org's endpoints (never their secrets)."""
    with _org_runtime(org) as (rt, org_id):
        items = admin.list_endpoints(rt.sessions, rt.keyring, org_id)
    _show_endpoints(items, json_output, "Endpoints")


@endpoints.command("create")
def create_endpoint(
    org: Org,
    url: Annotated[str, typer.Option("--url", help="http(s) URL of the receiver.")],
    event_type: Annotated[
        list[str] | None, typer.Option("--event-type", help="Only this type (repeatable).")
    ] = None,
    description: Annotated[
        str, typer.Option("--description", help="A note for people; not sent anywhere.")
    ] = "",
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", help="Most deliveries per second.")
    ] = None,
    max_concurrency: Annotated[
        int | None, typer.Option("--max-concurrency", help="Deliveries in flight at once.")
    ] = None,
    ordered: Annotated[
        bool, typer.Option("--ordered", help="One at a time, in event order.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Create an endpoint and print its signing secret (once)."""
    fields = {
        "url": url,
        "description": description,
        "event_types": event_type or [],
        "rate_limit_per_second": rate_limit,
        "max_concurrency": 1 if ordered else max_concurrency,
    }
    with _org_runtime(org) as (rt, org_id):
        view = admin.create_endpoint(
            rt.sessions, rt.keyring, org_id, fields, policy=rt.outbound_policy
        )
    _show_secret(view, json_output)


@endpoints.command("disable")
def disable_endpoint(endpoint_id: EndpointId, org: Org, json_output: JsonOutput = False) -> None:
    """Stop deliveries to an endpoint."""
    with _org_runtime(org) as (rt, org_id):
        view = admin.set_enabled(
            rt.sessions, rt.keyring, org_id, _endpoint_id(rt, org_id, endpoint_id), False
        )
    _show_endpoints([view], json_output, "Endpoint")


@endpoints.command("enable")
def enable_endpoint(endpoint_id: EndpointId, org: Org, json_output: JsonOutput = False) -> None:
    """Resume deliveries to an endpoint."""
    with _org_runtime(org) as (rt, org_id):
        view = admin.set_enabled(
            rt.sessions, rt.keyring, org_id, _endpoint_id(rt, org_id, endpoint_id), True
        )
    _show_endpoints([view], json_output, "Endpoint")


@endpoints.command("rotate-secret")
def rotate_secret(
    endpoint_id: EndpointId,
    org: Org,
    grace_hours: Annotated[
        float | None,
        typer.Option("--grace-hours", help="How long the old secret keeps signing."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Issue a new secret (printed once); the old one signs too during the grace period."""
    with _org_runtime(org) as (rt, org_id):
        hours = rt.settings.webhooks.rotation_grace_hours if grace_hours is None else grace_hours
        view = admin.rotate_secret(
            rt.sessions,
            rt.keyring,
            org_id,
            _endpoint_id(rt, org_id, endpoint_id),
            grace=timedelta(hours=hours),
        )
    _show_secret(view, json_output)


@deliveries.command("list")
def list_deliveries(
    org: Org,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Endpoint id, or a unique prefix.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending | delivered | failed")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 with offset, or 30m, 2h, 7d ago.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="Most deliveries to show.")
    ] = 50,
    json_output: JsonOutput = False,
) -> None:
    """List deliveries, most recently changed first."""
    with _org_runtime(org) as (rt, org_id):
        start = parse_time("since", since, utcnow()) if since else None
        if endpoint is not None:
            endpoint = _endpoint_id(rt, org_id, endpoint, "--endpoint")
        items = admin.list_deliveries(
            rt.sessions, org_id, endpoint_id=endpoint, status=status, since=start, limit=limit
        )
    if json_output:
        print_json(items)
        return
    rows = [
        [
            d["id"],
            d["endpoint_id"],
            d["event_type"],
            d["status"],
            d["attempts"],
            d["last_status_code"] or "",
            (d["updated_at"] or "")[:19].replace("T", " "),
        ]
        for d in items
    ]
    columns = ["id", "endpoint", "event", "status", "attempts", "last status", "updated (UTC)"]
    print_table("Deliveries", columns, rows)


@deliveries.command("replay")
def replay(
    org: Org,
    delivery_id: Annotated[
        str | None, typer.Argument(help="One delivery to replay (id or unique prefix).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Replay every failed delivery since then.")
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Endpoint id, or a unique prefix.")
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Replay one delivery, or every failed one since a time; exits 1 if any is refused."""
    if (delivery_id is None) == (since is None):
        fail("give either a DELIVERY_ID or --since")
    with _org_runtime(org) as (rt, org_id):
        if rt.settings.embedded:
            fail(EMBEDDED_ENQUEUE)
        if endpoint is not None:
            endpoint = _endpoint_id(rt, org_id, endpoint, "--endpoint")
        if delivery_id is not None:
            delivery_id = _delivery_id(rt, org_id, delivery_id)
            job_id = replay_delivery(rt.sessions, rt.enqueuer.enqueue, org_id, delivery_id)
            report: dict[str, Any] = {"replayed": {delivery_id: job_id}, "refused": {}}
        else:
            start = parse_time("since", since or "", utcnow())
            report = _replay_since(rt, org_id, start, endpoint)
    if json_output:
        print_json(report)
    else:
        typer.echo(f"replayed {len(report['replayed'])} delivery(ies)")
        for done, job in report["replayed"].items():
            typer.echo(f"  {done} -> new job {job}")
        for refused, reason in report["refused"].items():
            typer.echo(f"  refused {refused}: {reason}")
    if report["refused"]:
        raise typer.Exit(1)
