"""Received inbound webhooks of one org: stored once per provider event id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import InboundWebhook
from storage.repositories.checks import require_text
from storage.types import utcnow


class InboundWebhookRepository:
    """Record, read and mark processed the inbound webhooks of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def record(
        self,
        provider: str,
        provider_event_id: str,
        topic: str,
        payload: Mapping[str, Any] | list[Any],
        *,
        connection_id: str | None,
    ) -> tuple[InboundWebhook, bool]:
        """Store a webhook; a provider event id seen before returns the first, ``False``."""
        require_text("provider_event_id", provider_event_id, 200)
        require_text("topic", topic, 200)
        found = self._find(provider, provider_event_id)
        if found is not None:
            return found, False
        row = InboundWebhook(
            org_id=self._org_id,
            provider=provider,
            connection_id=connection_id,
            provider_event_id=provider_event_id,
            topic=topic,
            payload=payload if isinstance(payload, Mapping) else {"items": payload},
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:  # the provider's retry raced its first attempt
            found = self._find(provider, provider_event_id)
            if found is None:
                raise
            return found, False
        return row, True

    def holds(self, provider: str, provider_event_id: str) -> bool:
        """True when this provider event is already stored (a provider's retry of it)."""
        return self._find(provider, provider_event_id[:200]) is not None

    def get(self, inbound_id: str) -> InboundWebhook:
        """The org's webhook with this id, or :class:`NotFoundError`."""
        row = self._session.scalars(
            select(InboundWebhook).where(
                InboundWebhook.org_id == self._org_id, InboundWebhook.id == inbound_id
            )
        ).one_or_none()
        if row is None:
            raise NotFoundError("inbound webhook", inbound_id)
        return row

    def mark_processed(self, row: InboundWebhook, event_id: str) -> None:
        """Record the event the webhook was published as."""
        row.event_id = event_id
        row.processed_at = utcnow()
        self._session.flush()

    def forget(self, inbound_id: str) -> None:
        """Drop a row whose job could not be enqueued, so the provider's retry is accepted."""
        row = self.get(inbound_id)
        self._session.delete(row)
        self._session.flush()

    def _find(self, provider: str, provider_event_id: str) -> InboundWebhook | None:
        return self._session.scalars(
            select(InboundWebhook).where(
                InboundWebhook.org_id == self._org_id,
                InboundWebhook.provider == provider,
                InboundWebhook.provider_event_id == provider_event_id,
            )
        ).one_or_none()
