"""The seed's QR pipeline as a route: HubSpot contact, then a Slack message, then a Sheets row."""

from __future__ import annotations

from typing import Any

from switchyard.runtime import Runtime
from tests.integration.actions.connections import connect

QR_ROUTE: dict[str, Any] = {
    "name": "qr-to-crm",
    "event_type": "QR_SCANNED",
    "filter": {"data.campaign": ["spring", "summer"]},
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
                "channel": "C0SCANS",
                "text": "QR {{ data.code }} scanned by {{ data.email }} (contact {{ steps.contact.id }})",
            },
        },
        {
            "provider": "google_sheets",
            "action": "append_row",
            "input": {
                "spreadsheet_id": "1AbCdEfGhIjKlMnOp",
                "range": "Scans",
                "values": [
                    "{{ event.created_at | date('%Y-%m-%d') }}",
                    "{{ data.code }}",
                    "{{ data.email | lower }}",
                    "{{ steps.contact.id }}",
                ],
            },
        },
    ],
}

SCAN: dict[str, Any] = {
    "code": "QR-7",
    "email": "Ada@Example.com",
    "name": "Ada",
    "phone": "(415) 555-0100",
    "campaign": "spring",
}


def connect_qr_providers(rt: Runtime, org_id: str) -> None:
    for provider in ("hubspot", "slack", "google_sheets"):
        connect(rt, org_id, provider)


def created(rt: Runtime) -> tuple[int, int, int]:
    """(contacts, messages, rows) the sandbox holds."""
    assert rt.sandbox is not None
    writes = rt.sandbox.writes
    return (
        len(writes.created("hubspot", "contact")),
        len(writes.created("slack", "message")),
        len(writes.created("google_sheets", "row")),
    )
