"""The admission pump's worker-side settings: how fast idle consumers look again."""

from __future__ import annotations

import dramatiq

from switchyard.app import Runtime


def test_idle_consumers_poll_at_the_configured_pace(runtime: Runtime) -> None:
    """Consumers of a booted worker back off at most idle_poll_ms, not Dramatiq's 1 s."""
    worker = dramatiq.Worker(runtime.worker_broker, worker_timeout=1_000, worker_threads=1)
    worker.start()
    try:
        timeouts = {consumer.worker_timeout for consumer in worker.consumers.values()}
    finally:
        worker.stop()
    assert timeouts == {runtime.settings.workers.idle_poll_ms}
    assert runtime.settings.workers.idle_poll_ms < 1_000
