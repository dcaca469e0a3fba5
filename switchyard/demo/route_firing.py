"""A route firing for ``switchyard demo``: a QR scan becomes a HubSpot contact, a Slack
message and a Google Sheets row, through the embedded sandbox (Slack answers 429, then
500, before it accepts the message).

Two halves so the demo can run its own workers in between: :func:`start_demo_route`
(connections, route, faults, the event) before ``run_until_idle``, and
:func:`demo_route_summary` after; :func:`demo_routes` does both on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.sandbox.scripted import Scripted
from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.routes import ActionRunRepository
from switchyard.runtime import Runtime
from switchyard.services.errors import NotFound
from switchyard.services.routes import create_route, show_route
from workers.inprocess import run_until_idle

DEMO_ROUTE: dict[str, Any] = {
    "name": "demo-qr-scan",
    "event_type": "QR_SCANNED",
    "steps": [
        {
            "name": "contact",
            "provider": "hubspot",
            "action": "upsert_contact",
            "input": {
                "email": "{{ data.email | lower }}",
                "firstname": "{{ data.name | default('Friend') }}",
                "phone": "{{ data.phone | e164('US') }}",
            },
        },
        {
            "provider": "slack",
            "action": "post_message",
            "input": {
                "channel": "C0DEMO",
                "text": "QR {{ data.code }} scanned by {{ data.name }} (HubSpot contact "
                "{{ steps.contact.id }})",
            },
        },
        {
            "provider": "google_sheets",
            "action": "append_row",
            "input": {
                "spreadsheet_id": "1DemoSheetForScans",
                "range": "Scans",
                "values": ["{{ event.created_at | date('%Y-%m-%d %H:%M') }}", "{{ data.code }}"],
            },
        },
    ],
}
DEMO_SCAN = {
    "code": "QR-DEMO-1",
    "email": "Ada@Example.com",
    "name": "Ada",
    "phone": "415 555 0100",
}
PROVIDERS = ("hubspot", "slack", "google_sheets")
SLACK_SCRIPT = (429, 500)  # what the sandbox answers the next Slack calls, then 200


@dataclass(frozen=True)
class RouteDemo:
    """A fired demo route: its event, and the script of Slack answers it plays."""

    event_id: str
    slack: Scripted


def start_demo_route(runtime: Runtime, org_id: str) -> RouteDemo:
    """Connect the org to the sandbox, save the demo route, publish one scan."""
    sandbox = runtime.sandbox
    if sandbox is None:
        raise RuntimeError("the route demo needs the built-in sandbox (embedded mode)")
    for provider in PROVIDERS:
        _connect(runtime, org_id, provider)
    try:
        show_route(runtime.sessions, org_id, DEMO_ROUTE["name"])
    except NotFound:
        create_route(runtime.sessions, runtime.catalog, org_id, DEMO_ROUTE)
    slack = Scripted(statuses=list(SLACK_SCRIPT))
    sandbox.inject("slack", slack)
    published = runtime.event_publisher.publish(org_id, "QR_SCANNED", DEMO_SCAN)
    return RouteDemo(published.event_id, slack)


def demo_route_summary(runtime: Runtime, org_id: str, fired: RouteDemo) -> dict[str, Any]:
    """What the route did for the event: each step's output, what the sandbox holds, and
    what Slack answered first (429: the limiter defers the call; 500: retried)."""
    event_id = fired.event_id
    route = show_route(runtime.sessions, org_id, DEMO_ROUTE["name"])
    with runtime.sessions() as session:
        outputs = ActionRunRepository(session, org_id).pipeline_outputs(event_id, route["id"])
    steps = [
        {"step": i, "call": f"{s['provider']}.{s['action']}", "output": outputs.get(i)}
        for i, s in enumerate(route["steps"])
    ]
    writes = runtime.sandbox.writes if runtime.sandbox else None
    created = {
        f"{p}.{k}": len(writes.created(p, k)) if writes else 0
        for p, k in (("hubspot", "contact"), ("slack", "message"), ("google_sheets", "row"))
    }
    return {
        "route": route["name"],
        "event_id": event_id,
        "steps": steps,
        "sandbox": created,
        "Slack answered (its first calls)": _slack_answers(runtime, fired.slack),
    }


def _slack_answers(runtime: Runtime, slack: Scripted) -> str:
    """The scripted answers Slack played, then 200 once a message was posted."""
    played = [str(s) for s in SLACK_SCRIPT[: len(SLACK_SCRIPT) - len(slack.statuses)]]
    if runtime.sandbox and runtime.sandbox.writes.created("slack", "message"):
        played.append("200")
    return ", then ".join(played) or "no call"


def demo_routes(runtime: Runtime, org_id: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """Fire the demo route and run in-process workers until it is done; the summary."""
    fired = start_demo_route(runtime, org_id)
    run_until_idle(runtime.worker_broker, runtime.lanes, timeout_s=timeout_s)
    return demo_route_summary(runtime, org_id, fired)


def _connect(runtime: Runtime, org_id: str, provider: str) -> None:
    assert runtime.sandbox is not None
    with runtime.sessions.begin() as session:
        connections = ConnectionRepository(session, org_id)
        try:
            connections.get_by_provider(provider)
            return
        except NotFoundError:
            pass
        identifiers = {"hubspot": {"portal_id": "62515"}, "slack": {"team_id": "T0123ABCD"}}
        connection = connections.create(provider, account_identifier=identifiers.get(provider, {}))
        token = runtime.sandbox.issue_token(provider)
        CredentialRepository(session, org_id, runtime.keyring).store(
            connection.id,
            auth_mode="oauth2_code",
            access_token=token.access_token,
            refresh_token=token.refresh_token,
        )
