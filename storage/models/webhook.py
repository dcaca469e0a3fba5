"""Outbound webhooks: an org's endpoints, one delivery per (event, endpoint), every attempt.

An endpoint's signing secrets are stored only as ciphertext. During a rotation's grace
period the previous secret still signs (``previous_secret_*``), so receivers can switch
over without dropping a delivery. ``failing_since`` marks the start of an unbroken run of
failures; a run longer than the operator's limit disables the endpoint.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import ID_LENGTH, Base, created_at_column, id_column, updated_at_column

DELIVERY_STATUSES = ("pending", "delivered", "failed")
DISABLED_REASONS = ("manual", "gone", "failing")
ATTEMPT_OUTCOMES = ("delivered", "retried", "failed", "blocked")


class WebhookEndpoint(Base):
    """A receiver URL of one org; its repr shows no secret, not even ciphertext."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(default=list)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    encrypted_previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    rate_limit_per_second: Mapped[int | None] = mapped_column(Integer)
    max_concurrency: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def ordered(self) -> bool:
        """One delivery at a time, in event order."""
        return self.max_concurrency == 1

    def wants(self, event_type: str) -> bool:
        """True when the endpoint's filter accepts this type (an empty filter takes all)."""
        return not self.event_types or event_type in self.event_types

    def __repr__(self) -> str:
        # Only the origin: receivers put tokens in paths and query strings (Slack-style URLs).
        parts = urlsplit(self.url or "")
        port = f":{parts.port}" if parts.port else ""
        origin = f"{parts.scheme}://{parts.hostname or ''}{port}"
        return (
            f"WebhookEndpoint(id={self.id!r}, org_id={self.org_id!r}, origin={origin!r}, "
            f"enabled={self.enabled!r})"
        )


class WebhookDelivery(Base):
    """One event to one endpoint; ``attempts`` counts the current round (a replay restarts it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_org_status", "org_id", "status", "updated_at"),
        # ordered endpoints: the oldest pending delivery, by its event's time, in one probe
        Index(
            "ix_webhook_deliveries_endpoint_order",
            "endpoint_id",
            "status",
            "event_created_at",
            "event_id",
        ),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    event_created_at: Mapped[datetime]  # the event's, copied: ordered endpoints sort by it
    status: Mapped[str] = mapped_column(String(16), default="pending")
    job_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return (
            f"WebhookDelivery(id={self.id!r}, endpoint_id={self.endpoint_id!r}, "
            f"event_id={self.event_id!r}, status={self.status!r})"
        )


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: what came back (bounded), how long it took, or why not."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
