"""Dead jobs to operate on: parked directly (for filters) or by real workers (end to end)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from storage.models import AuditEvent, DeadJob
from storage.repositories.audit import AdminAuditRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter, FailedJob
from switchyard.runtime import Runtime


def envelope(org_id: str, **overrides: Any) -> dict[str, Any]:
    """A stored envelope as a worker would have received it."""
    return {
        "id": uuid.uuid4().hex,
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "connection": "default",
        "payload": {"action": "proxy", "input": {"path": "/teleport"}},
        "idempotency_key": "order-7",
        "priority": 5,
        "not_before": None,
        "correlation_id": "corr-1",
        "created_at": "2026-11-20T10:00:00+00:00",
        **overrides,
    }


def park(
    runtime: Runtime,
    org_id: str,
    *,
    dead_at: datetime | None = None,
    error_class: str = "unsupported",
    **overrides: Any,
) -> str:
    """Write one dead job (as the dead-letter middleware would) and return its id."""
    data = envelope(org_id, **overrides)
    failed = FailedJob(
        job_id=data["id"],
        org_id=org_id,
        queue=data["kind"],
        kind=data["kind"],
        provider=data["provider"],
        envelope=data,
        error_class=error_class,
        error_message="unsupported action 'teleport'",
        attempts=1,
    )
    with runtime.sessions.begin() as session:
        return AdminDeadJobRepository(session).add(failed, dead_at=dead_at).id


def dead_job(runtime: Runtime, dead_job_id: str) -> DeadJob:
    with runtime.sessions() as session:
        return AdminDeadJobRepository(session).get(dead_job_id)


def dead_jobs(runtime: Runtime, org_id: str) -> list[DeadJob]:
    with runtime.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org_id)))


def audit_events(runtime: Runtime, org_id: str, action: str) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(AdminAuditRepository(session).list(org_id=org_id, action=action))


@pytest.fixture
def teleport(runtime: Runtime, org_id: str) -> dict[str, Any]:
    """A job the door accepts but a worker parks at once: the org has no HubSpot connection
    (unknown actions are refused at enqueue since #19)."""
    return {
        "kind": "action",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"action": "proxy", "input": {"path": "/teleport"}},
        "idempotency_key": "order-7",
        "correlation_id": "corr-1",
    }
