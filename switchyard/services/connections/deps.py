"""What the connection use cases need, named one by one (never the whole deps), so each
dependency is visible at the call site and a test can pass its own."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from providers.outbound import OutboundPolicy
from providers.registry import Catalog
from storage.crypto import KeyRing
from workers.context import WorkerContext


class Publish(Protocol):
    """Publishes one event for an org (:meth:`producers.events.EventPublisher.publish`)."""

    def __call__(self, org_id: str, type: str, data: Mapping[str, Any], **options: Any) -> object:
        """Fan the event out; raises when it cannot be stored."""


@dataclass(frozen=True)
class OAuthOptions:
    """The operator's OAuth settings and where flow state lives in Redis."""

    redirect_url: str
    state_ttl_seconds: int
    namespace: str
    shared_account_providers: Collection[str] = ()


@dataclass(frozen=True)
class ConnectionDeps:
    """Storage, secrets, catalog, outbound rules and provider transport of connection use
    cases; ``publish`` announces connects, ``provider_calls`` builds the context a check
    calls the provider through (on first use: most calls never check)."""

    sessions: sessionmaker[Session]
    keyring: KeyRing
    catalog: Catalog
    policy: OutboundPolicy
    redis: Redis
    oauth: OAuthOptions
    publish: Publish
    provider_calls: Callable[[], WorkerContext]
    provider_settings: Mapping[str, Mapping[str, Any]]
    transport: httpx.BaseTransport | None = None
