"""Rate-limit admission: a job calls its provider only with a slot from the shared limiter.

Runs first among ``before`` hooks, so a deferral spends no attempt and touches nothing
else. With no slot free the job is rescheduled to the time its reserved slot opens and
skipped (Dramatiq acks the skip); it comes back once, holding its reservation.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware, SkipMessage

from providers.errors import ProviderError
from providers.registry import Catalog
from providers.spec import RateLimitPolicy
from workers.accounts import AccountDirectory
from workers.envelope import Kind
from workers.job_fields import job_fields
from workers.lanes import Lanes
from workers.limiter import Limiter, rate_key_and_policy
from workers.scheduling import reschedule

RESERVED = "switchyard_rl_slot_ms"
_KEY = "_switchyard_rate_key"
_POLICY = "_switchyard_rate_policy"
LIMITED_KINDS = frozenset({Kind.ACTION.value, Kind.SYNC.value})


def rate_key_of(message: MessageProxy) -> str | None:
    """The rate key the job was admitted on (set before it ran)."""
    key: str | None = message.__dict__.get(_KEY)
    return key


def rate_policy_of(message: MessageProxy) -> RateLimitPolicy | None:
    """The policy of the key the job was admitted on (set before it ran)."""
    policy: RateLimitPolicy | None = message.__dict__.get(_POLICY)
    return policy


class _QuietSkips(logging.Filter):
    """Dramatiq warns on every skipped message and prints its arguments; a deferral is
    routine, and OutcomeLog already reports it without the payload."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Message %s was skipped."


class RateLimit(Middleware):
    """Takes a limiter slot before provider-calling jobs run; defers them when there is none."""

    def __init__(
        self,
        limiter: Limiter,
        lanes: Lanes,
        catalog: Catalog,
        accounts: AccountDirectory,
        *,
        lease_ms: int,
    ) -> None:
        self.limiter = limiter
        self.lanes = lanes
        self.catalog = catalog
        self.accounts = accounts
        self.lease_ms = lease_ms

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        logging.getLogger("dramatiq.worker.WorkerThread").addFilter(_QuietSkips())

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        admitted = self._key_and_policy(message)
        if admitted is None:
            return
        key, policy = admitted
        decision = self.limiter.acquire(
            key,
            policy,
            job_id=message.message_id,
            slot_ms=int(message.options.get(RESERVED, 0)),
            lease_ms=self.lease_ms,
        )
        if decision.run:
            message.options.pop(RESERVED, None)
            return
        message.options[RESERVED] = decision.slot_ms
        reschedule(self.lanes, message, decision.delay_ms, "deferred")
        raise SkipMessage(f"rate limited on {key}; back in {decision.delay_ms} ms")

    def _key_and_policy(self, message: MessageProxy) -> tuple[str, RateLimitPolicy] | None:
        job = job_fields(message)
        if job.kind not in LIMITED_KINDS:
            return None
        try:
            spec = self.catalog.get(job.provider)
        except ProviderError:
            return None  # the envelope check will dead-letter it with the reason
        key, policy = rate_key_and_policy(spec, self.accounts, job.org, job.connection)
        setattr(message, _KEY, key)
        setattr(message, _POLICY, policy)
        return key, policy


class LeaseRelease(Middleware):
    """Releases the concurrency lease :class:`RateLimit` took, as soon as the actor returns.

    It sits last in the stack, so its ``after`` hook runs first — before Backoff can put a
    retry back in the lanes. A retry picked up at once (full jitter can make its delay ~0)
    would otherwise take the lease under the same job id and then lose it to this attempt's
    release, running uncounted against the cap.
    """

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        policy = rate_policy_of(message)
        key = rate_key_of(message)
        if key is not None and policy is not None and policy.concurrency:
            self.limiter.release(key, message.message_id)
