"""Producers: the enqueue API upstream apps call (Python and HTTP).

``producers.enqueue(...)`` uses the process's :class:`Enqueuer`, installed by the composition
root (``switchyard.runtime.bootstrap_producer()`` or ``bootstrap()``) so that settings are read
in one place only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from producers.enqueue import MAX_BATCH, BatchResult, Enqueued, Enqueuer
from producers.events import EventPublisher, InvalidEventError, Published

__all__ = [
    "MAX_BATCH",
    "BatchResult",
    "Enqueued",
    "Enqueuer",
    "EventPublisher",
    "InvalidEventError",
    "Published",
    "configure",
    "enqueue",
    "enqueue_many",
    "publish_event",
]

NOT_CONFIGURED = "Switchyard is not configured: call switchyard.runtime.bootstrap_producer() (or bootstrap()) first"
_enqueuer: Enqueuer | None = None
_publisher: EventPublisher | None = None


def configure(enqueuer: Enqueuer | None, publisher: EventPublisher | None = None) -> None:
    """Install the process-wide enqueuer and event publisher (``None`` removes them)."""
    global _enqueuer, _publisher
    _enqueuer = enqueuer
    _publisher = publisher


def enqueue(
    *,
    kind: str,
    org_id: str,
    provider: str,
    payload: Mapping[str, Any] | None = None,
    connection: str | None = None,
    idempotency_key: str | None = None,
    priority: int | None = None,
    not_before: datetime | str | None = None,
    correlation_id: str | None = None,
) -> Enqueued:
    """Enqueue one job; ``org_id`` is the org's id or unique name. Raises
    :class:`contract.envelope.InvalidJobError` naming each field at fault."""
    job = {
        "kind": kind,
        "org_id": org_id,
        "provider": provider,
        "payload": dict(payload or {}),
        "connection": connection,
        "idempotency_key": idempotency_key,
        "priority": priority,
        "not_before": not_before,
        "correlation_id": correlation_id,
    }
    return _configured().enqueue({k: v for k, v in job.items() if v is not None})


def enqueue_many(jobs: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
    """Enqueue up to :data:`MAX_BATCH` jobs (dicts shaped as :func:`enqueue`'s arguments) in
    one round trip; per job, in order, :class:`Enqueued` or the ``InvalidJobError``."""
    return _configured().enqueue_many(jobs)


def _configured() -> Enqueuer:
    if _enqueuer is None:
        raise RuntimeError(NOT_CONFIGURED)
    return _enqueuer


def publish_event(org_id: str, type: str, data: dict[str, Any], **options: Any) -> Published:
    """Publish an event for an org: ``publish_event(org, "QR_SCANNED", {...})``.

    Options: ``idempotency_key``, ``correlation_id``. Fans out to webhook endpoints and routes.
    """
    if _publisher is None:
        raise RuntimeError(NOT_CONFIGURED)
    return _publisher.publish(org_id, type, data, **options)
