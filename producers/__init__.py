"""Producers: the enqueue API upstream apps call (Python and HTTP).

``producers.enqueue(...)`` uses the process's :class:`Enqueuer`, installed by the composition
root (``switchyard.app.bootstrap()``) so that settings are read in one place only.
"""

from __future__ import annotations

from typing import Any

from producers.enqueue import Enqueued, Enqueuer

__all__ = ["Enqueued", "Enqueuer", "configure", "enqueue"]

_enqueuer: Enqueuer | None = None


def configure(enqueuer: Enqueuer | None) -> None:
    """Install the process-wide enqueuer (``None`` removes it)."""
    global _enqueuer
    _enqueuer = enqueuer


def enqueue(**job: Any) -> Enqueued:
    """Enqueue one job: ``enqueue(kind="action", org_id=..., provider=..., payload={...})``."""
    if _enqueuer is None:
        raise RuntimeError("Switchyard is not configured: call switchyard.app.bootstrap() first")
    return _enqueuer.enqueue(job)
