"""Small builders shared by the storage tests (unit and integration)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.crypto import KeyRing, generate_key_item
from storage.models import Connection, Organization
from storage.repositories import ConnectionRepository, FailedJob, OrganizationRepository


def keyring(*kids: str) -> KeyRing:
    """A ring with fresh random keys; the first kid encrypts."""
    return KeyRing([generate_key_item(kid) for kid in kids or ("k1",)])


def org(session: Session, name: str = "acme") -> Organization:
    return OrganizationRepository(session).create(name)


def connection(
    session: Session, org_id: str, provider: str = "hubspot", **fields: Any
) -> Connection:
    return ConnectionRepository(session, org_id).create(provider, **fields)


def failed_job(org_id: str, **overrides: Any) -> FailedJob:
    fields: dict[str, Any] = {
        "job_id": "job-1",
        "org_id": org_id,
        "queue": "sync",
        "kind": "sync",
        "provider": "hubspot",
        "envelope": {"kind": "sync", "org_id": org_id, "provider": "hubspot"},
        "error_class": "PermanentError",
        "error_message": "400 Bad Request",
        "attempts": 3,
    }
    fields.update(overrides)
    return FailedJob(**fields)


def at(text: str) -> datetime:
    """Parse an ISO timestamp that must carry its offset."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value
