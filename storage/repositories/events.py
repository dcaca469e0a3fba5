"""Published events: one org's through ``EventRepository``; the fan-out sweep across orgs
through ``AdminEventRepository`` (operator only)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import EVENT_SOURCES, Event
from storage.repositories.checks import (
    require_aware,
    require_choice,
    require_limit,
    require_match,
    require_text,
)
from storage.types import utcnow

EVENT_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
"""``QR_SCANNED``, ``integration.connected``, ``call.completed``: names, not prose."""


class EventRepository:
    """Record and read the events of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def record(
        self,
        type: str,
        data: Mapping[str, Any],
        *,
        source: str = "api",
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> tuple[Event, bool]:
        """Store an event; with a key already used by this org, return that event instead.

        Returns ``(event, created)``.
        """
        require_match("type", type, EVENT_TYPE_PATTERN)
        require_choice("source", source, EVENT_SOURCES)
        if idempotency_key is not None:
            require_text("idempotency_key", idempotency_key, 200)
            existing = self._by_key(idempotency_key)
            if existing is not None:
                return existing, False
        if correlation_id is not None:
            require_text("correlation_id", correlation_id, 200)
        event = Event(
            org_id=self._org_id,
            type=type,
            source=source,
            data=dict(data),
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )
        self._session.add(event)
        self._session.flush()
        return event, True

    def get(self, event_id: str) -> Event:
        """The org's event with this id, or :class:`NotFoundError`."""
        event = self._session.scalars(
            select(Event).where(Event.org_id == self._org_id, Event.id == event_id)
        ).first()
        if event is None:
            raise NotFoundError("event", event_id)
        return event

    def list(
        self, *, type: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> Sequence[Event]:
        """Newest first, optionally one type and from a time on."""
        require_limit(limit)
        require_aware("since", since)
        query = select(Event).where(Event.org_id == self._org_id)
        if type is not None:
            query = query.where(Event.type == type)
        if since is not None:
            query = query.where(Event.created_at >= since)
        return self._session.scalars(
            query.order_by(Event.created_at.desc(), Event.id).limit(limit)
        ).all()

    def mark_fanned_out(self, event_id: str) -> None:
        """Record that every fan-out job of the event is enqueued."""
        self._session.execute(
            update(Event)
            .where(Event.org_id == self._org_id, Event.id == event_id)
            .values(fanned_out_at=utcnow())
        )

    def _by_key(self, key: str) -> Event | None:
        return self._session.scalars(
            select(Event).where(Event.org_id == self._org_id, Event.idempotency_key == key)
        ).first()


class AdminEventRepository:
    """Across orgs: find events whose fan-out a crashed publisher left unfinished."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def pending_fanout(self, *, created_before: datetime, limit: int = 500) -> Sequence[Event]:
        """Events not marked fanned out, created before ``created_before``, oldest first."""
        require_aware("created_before", created_before)
        require_limit(limit)
        return self._session.scalars(
            select(Event)
            .where(Event.fanned_out_at.is_(None), Event.created_at < created_before)
            .order_by(Event.created_at)
            .limit(limit)
        ).all()
