"""``POST /webhooks/{provider}``: verify, route, deduplicate, store, enqueue — and answer fast.

Every refusal is an :class:`InboundRefused` carrying the HTTP status and a message that
says what was wrong (and never a secret): unknown provider or scheme 404, malformed body
400, missing / bad / stale signature 401, replayed signature 409, no matching connection
404. A request is stored once per (org, provider, provider event id); the provider's
retries — re-signed or byte-identical — are answered 200 as duplicates without a second
job. A signed handshake (Slack ``url_verification``) is answered and neither stored nor
published.

The replay cache is one Redis ``SET NX`` per signature, kept for the replay window, and is
consulted only for events not already stored: a signature presented again for an event we
do not hold (an attacker's replay after it was purged, or a race with the first request)
is refused even when the scheme carries no timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from contract.metrics import INBOUND_WEBHOOKS
from producers.enqueue import Enqueuer
from producers.inbound.route import Target, operator_secret, targets
from producers.inbound.schemes import (
    SCHEMES,
    Description,
    Incoming,
    PayloadError,
    Scheme,
    SignatureError,
)
from providers.errors import UnknownProviderError
from providers.registry import Catalog
from providers.spec import ProviderSpec
from queueing import keys
from storage.crypto import KeyRing, Secret
from storage.repositories.inbound_webhooks import InboundWebhookRepository

log = logging.getLogger("switchyard.inbound")


class InboundRefused(Exception):
    """A request the receiver turns away: ``status`` and a message for the sender."""

    def __init__(self, status: int, message: str, outcome: str) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome


@dataclass(frozen=True)
class Received:
    """What the receiver answers: how many orgs got a new job, how many were duplicates."""

    accepted: int
    duplicates: int
    reply: Mapping[str, Any] | None = None


@dataclass
class InboundReceiver:
    """Receives provider webhooks for every org; one per API process."""

    catalog: Catalog
    sessions: sessionmaker[Session]
    keyring: KeyRing
    redis: Redis
    enqueuer: Enqueuer
    provider_settings: Mapping[str, Mapping[str, Any]]
    namespace: str
    tolerance_seconds: int = 300
    replay_window_seconds: int = 24 * 3600

    def spec(self, provider: str) -> tuple[ProviderSpec, Scheme]:
        """The provider's catalog entry and scheme, or 404 naming what is missing."""
        try:
            spec = self.catalog.get(provider)
        except UnknownProviderError as exc:
            raise InboundRefused(404, str(exc), "unknown_provider") from None
        if spec.webhook_scheme is None:
            raise InboundRefused(404, f"{spec.name} sends no webhooks", "unknown_provider")
        scheme = SCHEMES.get(spec.webhook_scheme)
        if scheme is None:
            message = f"{spec.name}'s {spec.webhook_scheme!r} signatures are not supported yet"
            raise InboundRefused(404, message, "unsupported")
        return spec, scheme(self.tolerance_seconds)

    def receive(
        self, provider: str, incoming: Incoming, *, connection_id: str | None = None
    ) -> Received:
        """Verify and take one webhook, or raise :class:`InboundRefused`."""
        spec, scheme = self.spec(provider)
        try:
            result = self._receive(spec, scheme, incoming, connection_id)
        except InboundRefused as refused:
            INBOUND_WEBHOOKS.labels(spec.name, refused.outcome).inc()
            raise
        INBOUND_WEBHOOKS.labels(spec.name, _outcome(result)).inc()
        return result

    def verify_subscription(self, provider: str, params: Mapping[str, str]) -> str:
        """Meta's GET handshake: echo ``hub.challenge`` when ``hub.verify_token`` matches."""
        spec, _ = self.spec(provider)
        settings = self.provider_settings.get(spec.name, {})
        expected = settings.get("webhook_verify_token") or settings.get("verify_token")
        if params.get("hub.mode") != "subscribe" or "hub.challenge" not in params:
            raise InboundRefused(400, "expected hub.mode=subscribe and hub.challenge", "bad")
        if not expected or not _same(str(expected), params.get("hub.verify_token", "")):
            raise InboundRefused(403, "hub.verify_token does not match", "bad_signature")
        return params["hub.challenge"]

    def _receive(
        self, spec: ProviderSpec, scheme: Scheme, incoming: Incoming, connection_id: str | None
    ) -> Received:
        signature = _signature(scheme, incoming)
        described = _describe(scheme, incoming)
        fallback = operator_secret(self.provider_settings, spec.name)
        with self.sessions() as session:
            found = targets(
                session,
                self.keyring,
                spec,
                account=described.account,
                connection_id=connection_id,
                fallback=fallback,
            )
        verified = self._verified(scheme, incoming, found, fallback)
        if described.reply is not None:  # a signed handshake: answered, never stored
            return Received(0, 0, described.reply)
        if not verified:
            where = (
                f"connection {connection_id}" if connection_id else f"account {described.account!r}"
            )
            raise InboundRefused(404, f"no {spec.name} connection for {where}", "unrouted")
        if self._all_held(spec, described, verified):  # a retry, byte-identical or re-signed
            return Received(0, len(verified))
        self._claim_signature(spec.name, signature)
        try:
            return self._store(spec, described, verified)
        except Exception:
            self._release_signature(spec.name, signature)
            raise

    def _verified(
        self,
        scheme: Scheme,
        incoming: Incoming,
        found: Sequence[Target],
        fallback: Secret | None,
    ) -> list[Target]:
        """The targets one of whose secrets verifies the request; 401 when none does.

        With no target, the operator's secret still decides between 401 (bad signature)
        and 404 (a good signature for an account nobody connected).
        """
        candidates = [s for t in found for s in t.secrets] or ([fallback] if fallback else [])
        if not candidates:
            if not found:
                raise InboundRefused(404, "no connection matches this webhook", "unrouted")
            raise InboundRefused(401, "no webhook secret is configured for it", "no_secret")
        good: set[str] = set()
        last: SignatureError | None = None
        for secret in dict.fromkeys(s.reveal() for s in candidates):
            try:
                scheme.verify(incoming, secret)
                good.add(secret)
            except SignatureError as exc:
                last = exc
        if not good:
            assert last is not None
            outcome = "stale_signature" if last.reason == "stale" else "bad_signature"
            raise InboundRefused(401, f"signature {last.reason}: {last}", outcome)
        return [t for t in found if any(s.reveal() in good for s in t.secrets)]

    def _all_held(self, spec: ProviderSpec, described: Description, found: list[Target]) -> bool:
        """True when every target already stores this provider event (deduplication comes
        before the replay cache, so a provider's byte-identical retry is a 200 duplicate)."""
        with self.sessions() as session:
            return all(
                InboundWebhookRepository(session, t.org_id).holds(spec.name, described.event_id)
                for t in found
            )

    def _store(self, spec: ProviderSpec, described: Description, found: list[Target]) -> Received:
        accepted = duplicates = 0
        for target in found:
            with self.sessions.begin() as session:
                row, created = InboundWebhookRepository(session, target.org_id).record(
                    spec.name,
                    described.event_id[:200],
                    described.topic[:200],
                    described.payload if described.payload is not None else {},
                    connection_id=target.connection_id,
                )
                inbound_id = row.id
            if not created:
                duplicates += 1
                continue
            self._enqueue(spec, target, inbound_id, described.topic[:200])
            accepted += 1
        return Received(accepted, duplicates, described.reply)

    def _enqueue(self, spec: ProviderSpec, target: Target, inbound_id: str, topic: str) -> None:
        job = {
            "kind": "inbound",
            "org_id": target.org_id,
            "provider": spec.name,
            "connection": target.connection_name,
            "idempotency_key": f"inbound:{inbound_id}",
            "payload": {"event_id": inbound_id, "topic": topic},
        }
        try:
            self.enqueuer.enqueue(job)
        except Exception:
            with self.sessions.begin() as session:
                InboundWebhookRepository(session, target.org_id).forget(inbound_id)
            log.exception(
                "could not enqueue inbound webhook %s; the provider will retry", inbound_id
            )
            raise InboundRefused(503, "could not queue the webhook; retry later", "error") from None

    def _replay_key(self, provider: str, signature: str) -> str:
        digest = hashlib.sha256(signature.encode()).hexdigest()
        return keys.inbound_seen(self.namespace, provider, digest)

    def _claim_signature(self, provider: str, signature: str) -> None:
        key = self._replay_key(provider, signature)
        if not self.redis.set(key, 1, nx=True, ex=self.replay_window_seconds):
            raise InboundRefused(
                409, "this signature was already used (replayed request)", "replayed"
            )

    def _release_signature(self, provider: str, signature: str) -> None:
        self.redis.delete(self._replay_key(provider, signature))


def _outcome(result: Received) -> str:
    if result.accepted:
        return "accepted"
    return "duplicate" if result.duplicates else "handshake"


def _signature(scheme: Scheme, incoming: Incoming) -> str:
    try:
        return scheme.signature(incoming)
    except SignatureError as exc:
        raise InboundRefused(401, f"signature missing: {exc}", "missing_signature") from None


def _describe(scheme: Scheme, incoming: Incoming) -> Description:
    try:
        return scheme.describe(incoming)
    except PayloadError as exc:
        raise InboundRefused(400, str(exc), "bad_payload") from None


def _same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
