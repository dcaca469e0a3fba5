"""What handlers and middleware may use, built once per worker process by the composition root.

Middleware owns these resources (Polar's habit): actors fetch them with
:func:`current_context`, they never create engines or clients themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import Kind, Limits
from providers.outbound import OutboundPolicy
from providers.registry import Catalog
from queueing.job_state import JobStateStore
from storage.crypto import KeyRing
from workers.accounts import AccountDirectory
from workers.actions.spec import ActionOptions
from workers.lanes import Lanes
from workers.limiter import Limiter
from workers.retry_policy import RetryPolicy, policy_for
from workers.webhooks.outbound import Outbound


class EventSink(Protocol):
    """Where workers publish ``integration.*`` events (the runtime's event publisher)."""

    def publish(self, org_id: str, type: str, data: Mapping[str, Any], **options: Any) -> object:
        """Store and fan out one event; options: ``source``, ``idempotency_key``..."""


class JobSink(Protocol):
    """Where workers enqueue follow-up jobs (the runtime's enqueuer): route pipelines."""

    def enqueue(self, data: Mapping[str, Any]) -> object:
        """Validate and enqueue one job (idempotency key honoured)."""


@dataclass(frozen=True)
class WorkerContext:
    """Shared, thread-safe resources of one worker process."""

    catalog: Catalog
    limits: Limits
    sessions: sessionmaker[Session]
    redis: Redis
    namespace: str
    lanes: Lanes
    limiter: Limiter
    accounts: AccountDirectory
    retry_policy: RetryPolicy
    keyring: KeyRing
    provider_settings: Mapping[str, Mapping[str, Any]]
    action_options: ActionOptions  # from settings.actions
    kind_overrides: Mapping[Kind, Mapping[str, Any]]  # KIND_OVERRIDES + the delivery schedule
    sync_lease_seconds: int  # from settings.syncs
    transport: httpx.BaseTransport | None = None  # the built-in sandbox in embedded mode
    events: EventSink | None = None
    jobs: JobSink | None = None
    webhooks: Outbound | None = None  # outbound webhook delivery (client, limits)
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)  # where requests may go
    job_states: JobStateStore | None = None  # job state tracking (GET /v1/jobs/{id})

    def retry_policy_for(self, kind: Kind, provider: str) -> RetryPolicy:
        """Defaults, then the kind's overrides, then the provider's catalog ``retry``."""
        override = self.catalog.get(provider).retry if provider in self.catalog else None
        return policy_for(kind, self.retry_policy, override, self.kind_overrides)

    @property
    def providers(self) -> Catalog:
        """The catalog, as the set of known provider names (and aliases)."""
        return self.catalog


_current: ContextVar[WorkerContext | None] = ContextVar("switchyard_worker_context", default=None)


def current_context() -> WorkerContext:
    """The context of the job being processed; set by the ``Resources`` middleware."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no worker context: the Resources middleware is not installed")
    return context


def bind_context(context: WorkerContext | None) -> None:
    """Install (or clear) the context for the current thread."""
    _current.set(context)
