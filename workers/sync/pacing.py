"""Every page request of a sync takes a rate-limiter slot, like every job does.

The RateLimit middleware admits a job with one slot — enough for the first request of the
attempt. A sync makes one request per page, so each later page takes its own slot on the
same key and policy. A short wait (up to ``max_wait_ms``) is slept through, holding the
reserved slot; a longer one ends the attempt with ``RateLimited``: the job is deferred
without spending an attempt and resumes the run at its checkpoint when the slot opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from providers.errors import RateLimited
from providers.spec import RateLimitPolicy
from workers.context import WorkerContext
from workers.envelope import SyncJob
from workers.limiter import rate_key, rate_key_and_policy

MAX_INLINE_WAIT_MS = 2_000
LEASE_MS = 600_000


class PagePacer:
    """Takes a slot before each request after the attempt's first."""

    def __init__(
        self,
        context: WorkerContext,
        job: SyncJob,
        *,
        max_wait_ms: int = MAX_INLINE_WAIT_MS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        spec = context.catalog.get(job.provider)
        self.key, self.policy = rate_key_and_policy(
            spec, context.accounts, job.org_id, job.connection
        )
        self.limiter = context.limiter
        self.org_id, self.connection = job.org_id, job.connection
        self.account = context.accounts.lookup(job.org_id, job.provider, job.connection).account
        self.job_id = job.id
        self.provider = job.provider
        self.max_wait_ms = max_wait_ms
        self.sleep = sleep
        self.requests = 0

    def before_request(self, extra: RateLimitPolicy | None = None) -> None:
        """Return when the attempt's next request may be sent.

        ``extra`` is an endpoint's own limit on top of the provider's (HubSpot search: 5/s
        per account); its slot is taken before every such request, the first included.
        """
        self.requests += 1
        if extra is not None:
            self._take(self.extra_key(extra), extra)
        if self.requests == 1:
            return  # the slot the job was admitted with
        self._take(self.key, self.policy)

    def extra_key(self, policy: RateLimitPolicy) -> str:
        """The key of an endpoint's own limit, filled from this connection's account."""
        return rate_key(
            policy, org_id=self.org_id, connection=self.connection, account=self.account
        )

    def _take(self, key: str, policy: RateLimitPolicy) -> None:
        slot = 0
        while True:
            decision = self.limiter.acquire(
                key, policy, job_id=self.job_id, slot_ms=slot, lease_ms=LEASE_MS
            )
            if decision.run:
                return
            if decision.delay_ms > self.max_wait_ms:
                raise RateLimited(
                    f"{self.provider}: sync paused for the rate limit",
                    provider=self.provider,
                    retry_after=decision.delay_ms / 1000,
                )
            slot = decision.slot_ms
            self.sleep(decision.delay_ms / 1000)
