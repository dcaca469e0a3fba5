"""How a job ends badly, as the retry and dead-letter middleware see it.

::

    JobError
    ├── TransientJobError   retry with backoff (provider 5xx, timeouts, lost connections)
    ├── DeferredJobError    wait ``retry_after`` seconds without spending an attempt
    │   ├── SlotDeferred          no rate-limit slot to send now; the job holds a reserved one
    │   ├── QuotaDeferred         the provider's daily allocation is spent (or at its reserve)
    │   └── LimiterUnavailable    the limiter could not answer: nothing is sent without a slot
    └── PermanentJobError   dead-letter at once (bad input, no handler, invalid_grant...)
        ├── UnsupportedJobError   no handler for this kind or action in this deployment
        ├── ConnectionUnusable    the connection is missing, disconnected or broken
        └── AuthRefused           the provider refused the credential even after a refresh

Handlers raise these, or let :class:`contract.envelope.InvalidJobError` and the provider
client's errors (:mod:`providers.errors`) escape: :func:`verdict_for` maps them all to
retry, defer (rate limited: no attempt spent), wait (our own Redis or PostgreSQL is
unreachable: no attempt spent either, an outage is not the job's fault) or dead-letter. A
message for an actor this deployment lacks is dead at once. Any other exception is treated
as transient, because an unknown failure deserves a retry before a human.
"""

from __future__ import annotations

import re
from enum import Enum

from dramatiq.errors import ActorNotFound
from dramatiq.middleware import TimeLimitExceeded
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited


class JobError(Exception):
    """Base of job outcomes other than success."""

    error_class = "job_error"


class TransientJobError(JobError):
    """Worth retrying: the same job may succeed later."""

    error_class = "transient"


class DeferredJobError(JobError):
    """Not now, and not a failure: a gate of ours is closed (endpoint busy, ordering, rate).

    The job waits ``retry_after`` seconds in Redis and keeps its attempts.
    """

    error_class = "deferred"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlotDeferred(DeferredJobError):
    """The rate limiter has no slot to send now: the job comes back when its reserved one
    opens. Our own pace, not the provider's word: the key is not paused for anyone else."""

    error_class = "rate_limited"


class QuotaDeferred(DeferredJobError):
    """A daily allocation is spent, or down to the reserve left to the org's other clients:
    the job waits for the day to roll (or for a probe to find room), no attempt spent."""

    error_class = "quota"


class LimiterUnavailable(DeferredJobError):
    """The limiter could not be asked (Redis unreachable): a request without a slot could
    overrun the provider, so the job waits instead; not a provider failure, no attempt."""

    error_class = "limiter_unavailable"


class PermanentJobError(JobError):
    """Retrying cannot help; the job goes to the dead-letter queue with this reason."""

    error_class = "permanent"


class UnsupportedJobError(PermanentJobError):
    """The deployment has no handler for the job's kind or action."""

    error_class = "unsupported"


class ConnectionUnusable(PermanentJobError):
    """The job's connection is missing, disconnected or broken: reconnect, then replay."""

    error_class = "connection_error"


class AuthRefused(PermanentJobError):
    """A 401 survived one refresh (or the credential cannot be refreshed): a human must act."""

    error_class = "auth"


class Verdict(Enum):
    """What happens to a job after an attempt raised."""

    RETRY = "retry"  # transient: back off and try again, while attempts remain
    DEFER = "defer"  # rate limited: wait for the provider, without spending an attempt
    DEAD = "dead"  # permanent: dead-letter now
    WAIT = "wait"  # our infrastructure is unreachable: try again later, without an attempt


OUTAGE_SQLSTATE_CLASSES = ("08", "57")
"""PostgreSQL error classes of a lost or refused connection (08) and of a server going
away (57: admin shutdown, crash shutdown, cannot connect now)."""


def is_infrastructure_outage(exc: BaseException) -> bool:
    """Did ``exc`` (or an exception it was raised from) come from Redis or PostgreSQL being
    unreachable, rather than from the job?"""
    seen: BaseException | None = exc
    for _ in range(8):  # the cause chain, bounded
        if seen is None:
            return False
        if _is_outage(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", "")
    return sqlstate is None or str(sqlstate).startswith(OUTAGE_SQLSTATE_CLASSES)


def verdict_for(exc: BaseException) -> Verdict:
    """Classify an exception raised by a handler (providers' errors are mapped here)."""
    if isinstance(exc, RateLimited | DeferredJobError):
        return Verdict.DEFER
    if isinstance(exc, ActorNotFound):
        return Verdict.DEAD
    if is_infrastructure_outage(exc):
        return Verdict.WAIT
    permanent = isinstance(exc, PermanentJobError | PermanentError)
    if permanent or getattr(exc, "error_class", None) == "invalid_job":
        return Verdict.DEAD
    if isinstance(exc, AuthError):
        # ``call_provider`` has already refreshed once and retried; a 401 reaching here
        # means the provider refuses the credential and no retry will change that.
        return Verdict.DEAD
    return Verdict.RETRY


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait, when it said."""
    if isinstance(exc, RateLimited | DeferredJobError):
        return exc.retry_after
    explicit = getattr(exc, "retry_after", None)  # e.g. a webhook receiver's Retry-After
    if isinstance(explicit, int | float):
        return float(explicit)
    feedback = getattr(exc, "feedback", None)
    return getattr(feedback, "retry_after", None)


def error_class_of(exc: BaseException) -> str:
    """A short, low-cardinality name for an exception, used in the DLQ and metrics."""
    explicit = getattr(exc, "error_class", None)
    if isinstance(explicit, str):
        return explicit
    if isinstance(exc, TimeLimitExceeded):
        return "time_limit"
    if isinstance(exc, ActorNotFound):
        return "unknown_actor"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, ProviderError):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return "unexpected"
