"""The demo's capability sections: each starts its work before the demo's workers run and
reports what happened after they drained (a route firing, a shared OAuth refresh, a signed
webhook delivery with a retry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.syncs import SyncRepository
from switchyard.demo.route_firing import RouteDemo, demo_route_summary, start_demo_route
from switchyard.demo.webhook_delivery import WebhookDemo, start_webhook_demo, webhook_demo_summary
from switchyard.runtime import Runtime
from switchyard.services.syncs import SyncTarget, SyncTrigger

Start = Callable[[Runtime, dict[str, str]], Any]
Finish = Callable[[Runtime, dict[str, str], Any], dict[str, Any]]


def _start_route(runtime: Runtime, org_ids: dict[str, str]) -> RouteDemo:
    return start_demo_route(runtime, org_ids["acme"])


def _finish_route(runtime: Runtime, org_ids: dict[str, str], fired: RouteDemo) -> dict[str, Any]:
    return demo_route_summary(runtime, org_ids["acme"], fired)


REFRESH_JOBS = 12


def _start_refresh(runtime: Runtime, org_ids: dict[str, str]) -> int:
    """A second HubSpot connection whose token expires in 30 s (inside the catalog's 300 s
    margin), and a burst of calls on it: they must share one refresh."""
    assert runtime.sandbox is not None
    org_id = org_ids["initech"]
    token = runtime.sandbox.issue_token("hubspot")
    with runtime.sessions.begin() as session:
        connection = ConnectionRepository(session, org_id).create(
            "hubspot", name="expiring", account_identifier={"portal_id": "70001"}
        )
        CredentialRepository(session, org_id, runtime.keyring).store(
            connection.id,
            auth_mode="oauth2_code",
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=datetime.now(UTC) + timedelta(seconds=30),
        )
    job_input = {"path": "/crm/v3/objects/contacts", "query": {"limit": "1"}}
    for _ in range(REFRESH_JOBS):
        runtime.enqueuer.enqueue(
            {
                "kind": "action",
                "org_id": org_id,
                "provider": "hubspot",
                "connection": "expiring",
                "payload": {"action": "proxy", "input": job_input},
            }
        )
    return runtime.sandbox.token_calls("hubspot")


def _finish_refresh(runtime: Runtime, org_ids: dict[str, str], calls_before: int) -> dict[str, Any]:
    assert runtime.sandbox is not None
    with runtime.sessions() as session:
        connection = ConnectionRepository(session, org_ids["initech"]).get_by_provider(
            "hubspot", "expiring"
        )
        stored = CredentialRepository(session, org_ids["initech"], runtime.keyring).load(
            connection.id
        )
    return {
        "jobs on a token about to expire": REFRESH_JOBS,
        "token endpoint calls": runtime.sandbox.token_calls("hubspot") - calls_before,
        "credential version": stored.version,
        "now expires at": stored.expires_at.isoformat() if stored.expires_at else None,
    }


def _start_webhook(runtime: Runtime, org_ids: dict[str, str]) -> WebhookDemo:
    return start_webhook_demo(runtime, org_ids["globex"])


def _finish_webhook(runtime: Runtime, org_ids: dict[str, str], demo: WebhookDemo) -> dict[str, Any]:
    return webhook_demo_summary(runtime, demo)


def _start_sync(runtime: Runtime, org_ids: dict[str, str]) -> list[str]:
    """Each org syncs its HubSpot contacts; a second trigger joins the first instead of
    queuing another run."""
    trigger = SyncTrigger(runtime.sessions, runtime.enqueuer.enqueue)
    results = []
    for org_id in org_ids.values():
        target = SyncTarget(org_id, "hubspot", "contacts", mode="full")
        results += [trigger.trigger(target).result, trigger.trigger(target).result]
    return results


def _finish_sync(runtime: Runtime, org_ids: dict[str, str], triggers: list[str]) -> dict[str, Any]:
    runs = []
    for name, org_id in org_ids.items():
        with runtime.sessions() as session:
            for run in SyncRepository(session, org_id).runs(model="contacts"):
                runs.append(
                    f"{name}: {run.status}, {run.pages} pages, +{run.added} "
                    f"~{run.updated} -{run.deleted} ={run.unchanged}"
                )
    return {"triggers": triggers, "runs (added ~updated -deleted =unchanged)": runs}


SECTIONS: list[tuple[str, Start, Finish]] = [
    ("sync: HubSpot contacts, full", _start_sync, _finish_sync),
    ("route: QR_SCANNED -> HubSpot, Slack, Sheets", _start_route, _finish_route),
    ("OAuth refresh: single flight", _start_refresh, _finish_refresh),
    ("outbound webhook: signed, retried", _start_webhook, _finish_webhook),
]
