"""The baseline: a plain Dramatiq app with a no-op actor, on the benchmark's Redis.

Imported by Dramatiq's own CLI in worker processes, so it reads its two parameters from the
environment at import (this is benchmark scaffolding, not product code).
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["BENCH_REDIS_URL"], namespace=os.environ["BENCH_NAMESPACE"])
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="action", max_retries=0)
def raw_noop(job: dict[str, object]) -> None:
    """Do nothing with the same argument shape Switchyard's actors receive."""
