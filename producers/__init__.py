"""Producers: the enqueue API upstream apps call (Python and HTTP).

``producers.enqueue(...)`` uses the process's :class:`Enqueuer`, installed by the composition
root (``switchyard.app.bootstrap()``) so that settings are read in one place only.
"""

from __future__ import annotations

from typing import Any

from producers.enqueue import Enqueued, Enqueuer
from producers.events import EventPublisher, InvalidEventError, Published

__all__ = [
    "Enqueued",
    "Enqueuer",
    "EventPublisher",
    "InvalidEventError",
    "Published",
    "configure",
    "enqueue",
    "publish_event",
]

_enqueuer: Enqueuer | None = None
_publisher: EventPublisher | None = None


def configure(enqueuer: Enqueuer | None, publisher: EventPublisher | None = None) -> None:
    """Install the process-wide enqueuer and event publisher (``None`` removes them)."""
    global _enqueuer, _publisher
    _enqueuer = enqueuer
    _publisher = publisher


def enqueue(**job: Any) -> Enqueued:
    """Enqueue one job: ``enqueue(kind="action", org_id=..., provider=..., payload={...})``."""
    if _enqueuer is None:
        raise RuntimeError("Switchyard is not configured: call switchyard.app.bootstrap() first")
    return _enqueuer.enqueue(job)


def publish_event(org_id: str, type: str, data: dict[str, Any], **options: Any) -> Published:
    """Publish an event for an org: ``publish_event(org, "QR_SCANNED", {...})``.

    Options: ``idempotency_key``, ``correlation_id``. Fans out to webhook endpoints and routes.
    """
    if _publisher is None:
        raise RuntimeError("Switchyard is not configured: call switchyard.app.bootstrap() first")
    return _publisher.publish(org_id, type, data, **options)
