"""Wiring: build every resource from settings, once, for one process.

This is the only module that knows how the packages fit together. The CLI, the HTTP API and
the worker boot module call :func:`build_runtime` and take what they need from it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from dramatiq.brokers.redis import RedisBroker
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import producers
from contract.envelope import Kind, Limits
from contract.metrics import observe_outbound_refusal
from producers.door import Door
from producers.enqueue import Enqueuer
from producers.events import EventPublisher
from producers.fanouts import default_fanouts
from producers.inbound.receiver import InboundReceiver
from producers.orgs import OrgDirectory
from providers.outbound import OutboundPolicy, guarded_client
from providers.registry import Catalog, load_catalog
from providers.sandbox import Sandbox
from queueing.job_state import JobStateStore
from storage.crypto import KeyRing, Secret, generate_key_item
from storage.db import make_engine, make_session_factory
from storage.errors import KeyRingError
from storage.migrate import current, head_revision, upgrade
from switchyard.settings import KEYS_VAR, Settings, SettingsError, load_settings
from workers import redis_client
from workers.accounts import AccountDirectory
from workers.actions.spec import ActionOptions
from workers.broker import BrokerOptions, worker_broker
from workers.context import WorkerContext
from workers.handlers.action import input_model
from workers.lanes import Durability, Lanes
from workers.limiter import Limiter
from workers.retry_policy import KIND_OVERRIDES, RetryPolicy, delivery_overrides
from workers.webhooks.outbound import Outbound

logger = logging.getLogger("switchyard")
SANDBOX_ROOT = "http://sandbox.switchyard.invalid"


@dataclass
class Runtime:
    """Everything one process needs, built from one :class:`Settings`."""

    settings: Settings
    redis: Redis
    engine: Engine
    sessions: sessionmaker[Session]
    catalog: Catalog
    keyring: KeyRing
    provider_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    sandbox: Sandbox | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def broker_options(self) -> BrokerOptions:
        w = self.settings.workers
        return BrokerOptions(
            namespace=w.namespace,
            heartbeat_timeout_ms=w.heartbeat_timeout_ms,
            time_limit_ms=w.time_limit_ms,
            idle_poll_ms=w.idle_poll_ms,
            log_job_progress=w.log_job_progress,
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        w = self.settings.workers
        return RetryPolicy(
            max_attempts=w.max_retries + 1,
            min_backoff_ms=w.min_backoff_ms,
            max_backoff_ms=w.max_backoff_ms,
        )

    @cached_property
    def lanes(self) -> Lanes:
        jobs = self.settings.jobs
        durability = Durability(jobs.enqueue_replicas, jobs.enqueue_replica_timeout_ms)
        workers = self.settings.workers
        return Lanes(self.redis, workers.namespace, durability, shards=workers.lane_shards)

    @cached_property
    def limiter(self) -> Limiter:
        workers = self.settings.workers
        return Limiter(self.redis, workers.namespace, margin_ms=workers.rate_limit_margin_ms)

    @cached_property
    def job_states(self) -> JobStateStore:
        return JobStateStore(
            self.redis,
            self.settings.workers.namespace,
            retention_s=self.settings.jobs.state_retention_hours * 3600,
            shards=self.settings.workers.lane_shards,
        )

    @property
    def limits(self) -> Limits:
        return Limits(max_payload_bytes=self.settings.jobs.max_payload_bytes)

    @cached_property
    def worker_context(self) -> WorkerContext:
        return WorkerContext(
            catalog=self.catalog,
            limits=self.limits,
            sessions=self.sessions,
            redis=self.redis,
            namespace=self.settings.workers.namespace,
            lanes=self.lanes,
            limiter=self.limiter,
            job_states=self.job_states,
            accounts=AccountDirectory(self.sessions),
            retry_policy=self.retry_policy,
            keyring=self.keyring,
            provider_settings=self.provider_settings,
            transport=self.sandbox.transport() if self.sandbox else None,
            events=_LazyProducers(self),
            jobs=_LazyProducers(self),
            action_options=ActionOptions(
                platform_fee_percent=self.settings.actions.platform_fee_percent
            ),
            kind_overrides=self.kind_overrides,
            webhooks=self.outbound_webhooks,
            sync_lease_seconds=self.settings.syncs.lease_seconds,
            outbound=self.outbound_policy,
        )

    @cached_property
    def outbound_policy(self) -> OutboundPolicy:
        """Where requests made on a tenant's behalf may go (docs/outbound.md)."""
        outbound = self.settings.outbound
        networks = [*outbound.allowed_networks, *self.settings.webhooks.allowed_private_networks]
        return OutboundPolicy.from_config(
            networks, outbound.allowed_ports, on_refusal=observe_outbound_refusal
        )

    @property
    def kind_overrides(self) -> dict[Kind, dict[str, Any]]:
        return kind_overrides(self.settings)

    @cached_property
    def outbound_webhooks(self) -> Outbound:
        """The guarded client and limits of outbound webhook deliveries."""
        hooks = self.settings.webhooks
        timeout = httpx.Timeout(hooks.read_timeout_seconds, connect=hooks.connect_timeout_seconds)
        return Outbound(
            client=guarded_client(
                self.outbound_policy, timeout=timeout, max_connections=100, max_keepalive=100
            ),
            disable_after=timedelta(days=hooks.disable_after_days),
            max_response_bytes=hooks.max_response_bytes,
            ordered_recheck_seconds=hooks.ordered_recheck_seconds,
        )

    @cached_property
    def worker_broker(self) -> RedisBroker:
        return worker_broker(self.redis, self.broker_options, self.worker_context)

    @cached_property
    def enqueuer(self) -> Enqueuer:
        return Enqueuer(
            lanes=self.lanes,
            catalog=self.catalog,
            limits=self.limits,
            orgs=OrgDirectory(self.sessions),
            idempotency_window_seconds=self.settings.jobs.idempotency_window_seconds,
            door=Door(input_model),  # the worker's action registry, checked at the door
            states=self.job_states,
        )

    @cached_property
    def event_publisher(self) -> EventPublisher:
        return EventPublisher(
            sessions=self.sessions,
            enqueuer=self.enqueuer,
            fanouts=default_fanouts,
            max_data_bytes=self.settings.jobs.max_payload_bytes,
        )

    @cached_property
    def inbound_receiver(self) -> InboundReceiver:
        """Verifies, routes and queues provider webhooks (``POST /webhooks/{provider}``)."""
        hooks = self.settings.webhooks
        return InboundReceiver(
            catalog=self.catalog,
            sessions=self.sessions,
            keyring=self.keyring,
            redis=self.redis,
            enqueuer=self.enqueuer,
            provider_settings=self.provider_settings,
            namespace=self.settings.workers.namespace,
            tolerance_seconds=hooks.inbound_tolerance_seconds,
            replay_window_seconds=hooks.inbound_replay_window_seconds,
        )

    def close(self) -> None:
        if "outbound_webhooks" in self.__dict__:
            self.outbound_webhooks.client.close()
        self.engine.dispose()
        self.redis.close()


@dataclass(frozen=True)
class _LazyProducers:
    """The worker context's job and event sinks: the runtime's enqueuer and event publisher,
    built on first use (most worker processes never enqueue or publish)."""

    runtime: Runtime

    def enqueue(self, data: Mapping[str, Any]) -> object:
        return self.runtime.enqueuer.enqueue(data)

    def publish(self, org_id: str, type: str, data: Mapping[str, Any], **options: Any) -> object:
        return self.runtime.event_publisher.publish(org_id, type, data, **options)


def build_runtime(
    settings: Settings | None = None,
    *,
    sandbox: Sandbox | None = None,
    producer_only: bool = False,
) -> Runtime:
    """Build a process's runtime; the embedded default migrates its SQLite file itself.

    Provider calls go to the built-in sandbox in embedded mode, or to ``sandbox`` when one
    is given (tests on real servers); otherwise to the providers themselves.
    ``producer_only``: a process that only enqueues and publishes may go without the key
    ring (see :func:`bootstrap_producer`).
    """
    settings = settings or load_settings()
    url = settings.resolved_database_url
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(url)
    elif (found := current(url)) != (needed := head_revision()):
        raise SettingsError(
            f"the database schema is at revision {found or '(none: empty database)'}, this "
            f"version needs {needed}: run `switchyard db upgrade`"
        )
    engine = make_engine(url, **_engine_timeouts(settings))
    # The embedded default talks to the built-in provider sandbox, in process.
    if sandbox is None and settings.embedded:
        sandbox = Sandbox(seed=0)
    overrides = _merged(sandbox.overrides(SANDBOX_ROOT) if sandbox else {}, settings.providers)
    return Runtime(
        settings=settings,
        redis=_redis_client(settings),
        engine=engine,
        sessions=make_session_factory(engine),
        catalog=load_catalog(overrides=overrides),
        keyring=(
            NoKeyRing()
            if producer_only and not settings.security.encryption_keys
            else _keyring(settings)
        ),
        provider_settings=overrides,
        sandbox=sandbox,
    )


def _merged(
    base: dict[str, dict[str, str]], extra: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per-provider settings: ``extra`` (the operator's) wins over ``base`` key by key."""
    out: dict[str, dict[str, Any]] = {k: dict(v) for k, v in base.items()}
    for name, values in extra.items():
        out.setdefault(name, {}).update(values)
    return out


def is_up_to_date(url: str) -> bool:
    """True when the database is at the newest migration."""
    return current(url) == head_revision()


def bootstrap(settings: Settings | None = None) -> Runtime:
    """Build the runtime and install it as the target of ``producers.enqueue(...)``."""
    runtime = build_runtime(settings)
    producers.configure(runtime.enqueuer, runtime.event_publisher)
    return runtime


def bootstrap_producer(settings: Settings | None = None) -> Runtime:
    """:func:`bootstrap` for an app that shares the deployment but only enqueues jobs and
    publishes events: it needs Redis and the database (organizations, events), not the key
    ring — nothing a producer does decrypts a credential (were it asked to, it would refuse)."""
    runtime = build_runtime(settings, producer_only=True)
    producers.configure(runtime.enqueuer, runtime.event_publisher)
    return runtime


class NoKeyRing(KeyRing):
    """The key ring of a producer-only runtime: holds no key, refuses to encrypt or decrypt."""

    def __init__(self) -> None:
        self._keys = {}
        self._primary_kid = ""

    def encrypt(self, plaintext: str | Secret, *, associated_data: str) -> str:
        raise KeyRingError("this runtime was built to enqueue only and holds no key ring")

    def decrypt(self, ciphertext: str, *, associated_data: str) -> Secret:
        raise KeyRingError("this runtime was built to enqueue only and holds no key ring")


def _redis_client(settings: Settings) -> Redis:
    timeouts = settings.timeouts
    return redis_client.connect(
        settings.redis_url,
        connect_timeout=timeouts.redis_connect_seconds,
        socket_timeout=timeouts.redis_socket_seconds,
    )


def _engine_timeouts(settings: Settings) -> dict[str, Any]:
    """A hung PostgreSQL fails new connections after the connect timeout (SQLite: none)."""
    if not settings.resolved_database_url.startswith("postgresql"):
        return {}
    return {"connect_args": {"connect_timeout": settings.timeouts.database_connect_seconds}}


def _keyring(settings: Settings) -> KeyRing:
    items = settings.security.encryption_keys
    if items:
        try:
            return KeyRing(items)
        except KeyRingError as exc:
            raise SettingsError(f"{KEYS_VAR}: {exc}") from None
    if settings.database_url is not None:
        raise SettingsError(
            f"{KEYS_VAR}: required with a server database; create one with "
            "`switchyard keys generate` and keep it in your secret store"
        )
    return KeyRing([_local_key_item(settings.data_dir)])


def _local_key_item(data_dir: Path) -> str:
    """The embedded default keeps a generated key beside its SQLite file (mode 0600)."""
    path = data_dir / "encryption.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key_item("local1"))
        logger.warning("generated a local encryption key at %s (embedded mode only)", path)
    return path.read_text().strip()


def kind_overrides(settings: Settings) -> dict[Kind, dict[str, Any]]:
    """Per-kind retry policy changes; the delivery schedule comes from webhook settings."""
    hooks = settings.webhooks
    schedule = [int(seconds * 1000) for seconds in hooks.retry_schedule_seconds]
    deliver = delivery_overrides(schedule, jitter=hooks.retry_jitter)
    return {**KIND_OVERRIDES, Kind.DELIVER: deliver}
