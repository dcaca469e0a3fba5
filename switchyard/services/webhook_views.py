"""Outbound webhook endpoints, deliveries and attempts as JSON-ready data, shared by the
API, the CLI and the console. No view holds a secret or its ciphertext, except
:func:`issued_view` — the answer to creating an endpoint or rotating its secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storage.repositories.webhook_endpoints import IssuedEndpoint


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as shown to its org: settings and state, never a secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "rate_limit_per_second": endpoint.rate_limit_per_second,
        "max_concurrency": endpoint.max_concurrency,
        "ordered": endpoint.ordered,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": _iso(endpoint.disabled_at),
        "failing_since": _iso(endpoint.failing_since),
        "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        "created_at": _iso(endpoint.created_at),
    }


def issued_view(issued: IssuedEndpoint) -> dict[str, Any]:
    """An endpoint just created or re-keyed, with its secret: shown this once."""
    return {**endpoint_view(issued.endpoint), "secret": issued.secret.reveal()}


def attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    """One logged attempt."""
    return {
        "number": attempt.number,
        "outcome": attempt.outcome,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
        "at": _iso(attempt.created_at),
    }


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery's state (its attempts are listed separately)."""
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "delivered_at": _iso(delivery.delivered_at),
        "updated_at": _iso(delivery.updated_at),
    }
