"""The audit trail: append-only, so there is a way to record and to read, never to change.

``AuditRepository`` records and reads one org's events; ``AdminAuditRepository`` records
operator-wide events (org_id None) or any org's, and reads across orgs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent
from storage.repositories.checks import require_aware, require_limit, require_text


class _AuditTrail:
    def __init__(self, session: Session, scope_org_id: str | None) -> None:
        self._session = session
        self._scope_org_id = scope_org_id

    def _record(
        self,
        org_id: str | None,
        actor: str,
        action: str,
        subject_type: str | None,
        subject_id: str | None,
        details: Mapping[str, Any] | None,
    ) -> AuditEvent:
        require_text("actor", actor, 200)
        require_text("action", action, 100)
        for name, value in (("subject_type", subject_type), ("subject_id", subject_id)):
            if value is not None:
                require_text(name, value, 64)
        event = AuditEvent(
            org_id=org_id,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            details=dict(details or {}),
        )
        self._session.add(event)
        self._session.flush()
        return event

    def _list(
        self,
        conditions: list[ColumnElement[bool]],
        action: str | None,
        since: datetime | None,
        limit: int,
    ) -> Sequence[AuditEvent]:
        require_limit(limit)
        require_aware("since", since)
        if self._scope_org_id is not None:
            conditions.append(AuditEvent.org_id == self._scope_org_id)
        if action is not None:
            conditions.append(AuditEvent.action == action)
        if since is not None:
            conditions.append(AuditEvent.created_at >= since)
        query = (
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()


class AuditRepository(_AuditTrail):
    """Audit events of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        super().__init__(session, org_id)
        self._org_id = org_id

    @property
    def org_id(self) -> str:
        return self._org_id

    def record(
        self,
        actor: str,
        action: str,
        *,
        subject_type: str | None = None,
        subject_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event, e.g. ``record("api-key:ab12", "dlq.replayed", ...)``."""
        return self._record(self._org_id, actor, action, subject_type, subject_id, details)

    def list(
        self, *, action: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> Sequence[AuditEvent]:
        """Return this org's events, newest first."""
        return self._list([], action, since, limit)


class AdminAuditRepository(_AuditTrail):
    """Audit events of every org and of operator-wide actions."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, None)

    def record(
        self,
        actor: str,
        action: str,
        *,
        org_id: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event about ``org_id``, or an operator-wide one when it is None."""
        return self._record(org_id, actor, action, subject_type, subject_id, details)

    def list(
        self,
        *,
        org_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[AuditEvent]:
        """Return events newest first: all of them, or those about ``org_id``."""
        conditions = [] if org_id is None else [AuditEvent.org_id == org_id]
        return self._list(conditions, action, since, limit)
