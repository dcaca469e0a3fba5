"""Rate-limit admission: sets up a provider-calling job's standing with the limiter.

The slot itself is taken when a request is sent (:mod:`workers.send_gate`), not here: what
happens between admission and the send (loading and refreshing the credential, building the
client) is not bounded, and the provider counts arrivals. This middleware, first among the
``before`` hooks, resolves the job's rate key, hands the attempt the slot it reserved in an
earlier attempt, and holds the key's concurrency lease for the whole job (deferring the job,
without spending an attempt, when the cap is reached). If Redis cannot be asked, the attempt
is marked so that it sends nothing: Dramatiq ignores errors raised in ``before`` hooks, so
raising here would wave the job through.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware, SkipMessage
from redis.exceptions import RedisError

from contract.envelope import Kind
from providers.errors import ProviderError
from providers.registry import Catalog
from providers.spec import RateLimitPolicy
from workers.accounts import AccountDirectory
from workers.job_fields import job_fields
from workers.lanes import Lanes
from workers.limiter import Limiter, rate_key_and_policy
from workers.scheduling import reschedule
from workers.send_gate import Admission, begin_attempt, current_admission

RESERVED = "switchyard_rl_slot_ms"
_KEY = "_switchyard_rate_key"
_POLICY = "_switchyard_rate_policy"
LIMITED_KINDS = frozenset({Kind.ACTION.value, Kind.SYNC.value})
logger = logging.getLogger(__name__)


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
    """Admits provider-calling jobs: rate key, reserved slot, concurrency lease."""

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
        begin_attempt(None)
        admitted = self._key_and_policy(message)
        if admitted is None:
            return
        key, policy = admitted
        admission = Admission(key, message.message_id, int(message.options.get(RESERVED, 0)))
        begin_attempt(admission)
        try:
            decision = self.limiter.lease(
                key, policy, job_id=message.message_id, lease_ms=self.lease_ms
            )
        except RedisError as exc:
            admission.unreachable = True
            logger.debug("limiter unreachable at admission: %s", exc)
            return
        if decision.run:
            return
        begin_attempt(None)
        reschedule(self.lanes, message, decision.delay_ms, "deferred")
        raise SkipMessage(f"concurrency cap on {key}; back in {decision.delay_ms} ms")

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
    """Ends the attempt's admission as soon as the actor returns: keeps the slot a deferred
    job reserved (in its message, for its next attempt) and releases the concurrency lease.

    It sits last in the stack, so its ``after`` hook runs first — before Backoff puts the
    job back in the lanes (with the reservation in its options). A retry picked up at once
    (full jitter can make its delay ~0) would otherwise take the lease under the same job
    id and then lose it to this attempt's release, running uncounted against the cap.
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
        admission = current_admission()
        begin_attempt(None)
        if admission is not None and admission.slot_ms:
            message.options[RESERVED] = admission.slot_ms
        else:
            message.options.pop(RESERVED, None)
        policy = rate_policy_of(message)
        key = rate_key_of(message)
        if key is not None and policy is not None and policy.concurrency:
            self.limiter.release(key, message.message_id)
