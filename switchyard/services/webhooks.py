"""Managing outbound webhooks: endpoints and deliveries as plain data, for the API and CLI.

One implementation serves both front ends (like :mod:`switchyard.services.dead_jobs` for the
DLQ), so they share field names and error messages. Views never contain a secret or its ciphertext;
the secret appears only in what :func:`create_endpoint` and :func:`rotate_secret` return —
once, to whoever made the call.

A replay is a new ``deliver`` job for the same (event, endpoint); its new job id opens a
new round on the delivery, so it gets the full retry schedule again. Deliveries still in
progress are refused (a second job would race the first), and so are deliveries to a
disabled endpoint (enable it first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from producers.enqueue import Enqueued
from producers.webhook_fanout import delivery_job
from providers.outbound import OutboundPolicy, OutboundRefused
from storage.crypto import KeyRing
from storage.errors import InvalidFieldError
from storage.models import WebhookDelivery, WebhookEndpoint
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.services.errors import Conflict, translated
from switchyard.services.webhook_views import (
    attempt_view,
    delivery_view,
    endpoint_view,
    issued_view,
)

MAX_URL_CHARS = 2000
ENDPOINT_FIELDS = frozenset(
    {"url", "description", "event_types", "rate_limit_per_second", "max_concurrency"}
)


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
        return issued_view(issued)


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
        return issued_view(repo.rotate_secret(endpoint_id, grace=grace))


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


# -- replays ---------------------------------------------------------------------------------

Enqueue = Callable[[Mapping[str, Any]], Enqueued]
MAX_REPLAY = 1_000


class ReplayRefusedError(Conflict):
    """A delivery cannot be replayed now; the message says why."""


@dataclass
class ReplayReport:
    """New job per replayed delivery id, and the reason for each refused one."""

    replayed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "refused": self.refused}


@translated
def replay_delivery(
    sessions: sessionmaker[Session], enqueue: Enqueue, org_id: str, delivery_id: str
) -> str:
    """Replay one delivery of the org; returns the new job id or raises why not."""
    with sessions() as session:
        delivery = WebhookDeliveryRepository(session, org_id).get(delivery_id)
        _check(session, org_id, delivery)
        job, status = _job(org_id, delivery), delivery.status
    return _send(sessions, enqueue, org_id, delivery_id, job, status)


@translated
def replay_failed(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    org_id: str,
    *,
    since: datetime,
    endpoint_id: str | None = None,
    limit: int = MAX_REPLAY,
) -> ReplayReport:
    """Replay every failed delivery of the org that changed since ``since``."""
    report = ReplayReport()
    with sessions() as session:
        failed = WebhookDeliveryRepository(session, org_id).list(
            endpoint_id=endpoint_id, status="failed", since=since, limit=limit
        )
        jobs: dict[str, dict[str, Any]] = {}
        for delivery in failed:
            try:
                _check(session, org_id, delivery)
            except ReplayRefusedError as exc:
                report.refused[delivery.id] = str(exc)
                continue
            jobs[delivery.id] = _job(org_id, delivery)
    for delivery_id, job in jobs.items():
        try:
            report.replayed[delivery_id] = _send(
                sessions, enqueue, org_id, delivery_id, job, "failed"
            )
        except ReplayRefusedError as exc:
            report.refused[delivery_id] = str(exc)
    return report


def _send(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    org_id: str,
    delivery_id: str,
    job: dict[str, Any],
    previous_status: str,
) -> str:
    """Claim the delivery for the new job (so a second replay sees it in progress), enqueue."""
    with sessions.begin() as session:
        if not WebhookDeliveryRepository(session, org_id).claim_replay(delivery_id, job["id"]):
            raise ReplayRefusedError("the delivery is still in progress")
    try:
        return enqueue(job).job_id
    except Exception:
        with sessions.begin() as session:
            WebhookDeliveryRepository(session, org_id).restore(delivery_id, previous_status)
        raise


def _check(session: Session, org_id: str, delivery: WebhookDelivery) -> None:
    if delivery.status == "pending":
        raise ReplayRefusedError("the delivery is still in progress")
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)  # same org as the delivery
    if endpoint is None or endpoint.org_id != org_id:
        raise ReplayRefusedError("the endpoint no longer exists")
    if not endpoint.enabled:
        raise ReplayRefusedError(f"endpoint {endpoint.id} is disabled; enable it first")


def _job(org_id: str, delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        **delivery_job(delivery.event_id, delivery.endpoint_id),
        "org_id": org_id,
        "id": uuid.uuid4().hex,
        "idempotency_key": f"webhook-replay:{delivery.id}:{uuid.uuid4().hex}",
    }
