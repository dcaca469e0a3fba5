"""Managing outbound webhooks: endpoints and deliveries as plain data, for the API and CLI.

One implementation serves both front ends (like :mod:`switchyard.services.dead_jobs` for the
DLQ), so they share field names and error messages. Views never contain a secret or its ciphertext;
the secret appears only in what :func:`create_endpoint` and :func:`rotate_secret` return —
once, to whoever made the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from providers.outbound import OutboundPolicy, OutboundRefused
from storage.crypto import KeyRing
from storage.errors import InvalidFieldError
from storage.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import IssuedEndpoint, WebhookEndpointRepository
from switchyard.services.errors import translated

MAX_URL_CHARS = 2000
ENDPOINT_FIELDS = frozenset(
    {"url", "description", "event_types", "rate_limit_per_second", "max_concurrency"}
)


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


def _issued_view(issued: IssuedEndpoint) -> dict[str, Any]:
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


@translated
def validate_endpoint_url(policy: OutboundPolicy, url: Any) -> str:
    """``url`` if deliveries can send to it, else :class:`InvalidFieldError` saying why.

    The URL is parsed by the parser the sender uses (httpx) and put through the outbound
    policy's save-time checks (scheme, port, host form, IP literals), so a URL accepted here
    is one a delivery can send: no endpoint is stored only to fail every attempt.
    """
    if not isinstance(url, str) or not url:
        raise InvalidFieldError("url", "required, an http(s) URL")
    if len(url) > MAX_URL_CHARS:
        raise InvalidFieldError("url", f"must be at most {MAX_URL_CHARS} characters")
    try:
        policy.check_url(url)
    except OutboundRefused as refusal:
        raise InvalidFieldError("url", refusal.detail) from None
    return url


@translated
def create_endpoint(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    org_id: str,
    fields: Mapping[str, Any],
    *,
    policy: OutboundPolicy,
) -> dict[str, Any]:
    """Create an endpoint from ``fields``; the answer holds its secret, the only time."""
    unknown = sorted(set(fields) - ENDPOINT_FIELDS)
    if unknown:
        raise InvalidFieldError(unknown[0], "unknown field")
    validate_endpoint_url(policy, fields.get("url"))
    with sessions.begin() as session:
        issued = WebhookEndpointRepository(session, org_id, keyring).create(
            fields["url"],
            description=fields.get("description") or "",
            event_types=fields.get("event_types") or (),
            rate_limit_per_second=fields.get("rate_limit_per_second"),
            max_concurrency=fields.get("max_concurrency"),
        )
        return _issued_view(issued)


@translated
def list_endpoints(
    sessions: sessionmaker[Session], keyring: KeyRing, org_id: str
) -> list[dict[str, Any]]:
    """The org's endpoints, oldest first."""
    with sessions() as session:
        return [
            endpoint_view(e) for e in WebhookEndpointRepository(session, org_id, keyring).list()
        ]


@translated
def get_endpoint(
    sessions: sessionmaker[Session], keyring: KeyRing, org_id: str, endpoint_id: str
) -> dict[str, Any]:
    """One endpoint of the org."""
    with sessions() as session:
        return endpoint_view(WebhookEndpointRepository(session, org_id, keyring).get(endpoint_id))


@translated
def set_enabled(
    sessions: sessionmaker[Session], keyring: KeyRing, org_id: str, endpoint_id: str, enabled: bool
) -> dict[str, Any]:
    """Enable or (manually) disable an endpoint."""
    with sessions.begin() as session:
        repo = WebhookEndpointRepository(session, org_id, keyring)
        endpoint = repo.enable(endpoint_id) if enabled else repo.disable(endpoint_id, "manual")
        return endpoint_view(endpoint)


@translated
def rotate_secret(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    org_id: str,
    endpoint_id: str,
    *,
    grace: timedelta,
) -> dict[str, Any]:
    """Issue a new secret (returned once); the old one signs too until ``grace`` ends."""
    if grace < timedelta(0) or grace > timedelta(days=30):
        raise InvalidFieldError("grace_hours", "must be between 0 and 720")
    with sessions.begin() as session:
        repo = WebhookEndpointRepository(session, org_id, keyring)
        return _issued_view(repo.rotate_secret(endpoint_id, grace=grace))


@translated
def list_deliveries(
    sessions: sessionmaker[Session],
    org_id: str,
    *,
    endpoint_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The org's deliveries, most recently changed first."""
    with sessions() as session:
        found: Sequence[WebhookDelivery] = WebhookDeliveryRepository(session, org_id).list(
            endpoint_id=endpoint_id, status=status, since=since, limit=limit
        )
        return [delivery_view(d) for d in found]


@translated
def show_delivery(sessions: sessionmaker[Session], org_id: str, delivery_id: str) -> dict[str, Any]:
    """One delivery with every attempt logged for it."""
    with sessions() as session:
        repo = WebhookDeliveryRepository(session, org_id)
        view = delivery_view(repo.get(delivery_id))
        view["attempt_log"] = [attempt_view(a) for a in repo.attempts(delivery_id)]
        return view
