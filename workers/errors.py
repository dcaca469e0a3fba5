"""How a job ends badly, as the retry and dead-letter middleware see it.

::

    JobError
    ├── TransientJobError   retry with backoff (provider 5xx, timeouts, lost connections)
    └── PermanentJobError   dead-letter at once (bad input, no handler, invalid_grant...)
        └── UnsupportedJobError   no handler for this kind or action in this deployment

Handlers raise these (or let :class:`workers.envelope.InvalidJobError` escape); any other
exception is treated as transient, because an unknown failure deserves a retry before a human.
"""

from __future__ import annotations

from dramatiq.middleware import TimeLimitExceeded


class JobError(Exception):
    """Base of job outcomes other than success."""

    error_class = "job_error"


class TransientJobError(JobError):
    """Worth retrying: the same job may succeed later."""

    error_class = "transient"


class PermanentJobError(JobError):
    """Retrying cannot help; the job goes to the dead-letter queue with this reason."""

    error_class = "permanent"


class UnsupportedJobError(PermanentJobError):
    """The deployment has no handler for the job's kind or action."""

    error_class = "unsupported"


def error_class_of(exc: BaseException) -> str:
    """A short, low-cardinality name for an exception, used in the DLQ and metrics."""
    explicit = getattr(exc, "error_class", None)
    if isinstance(explicit, str):
        return explicit
    if isinstance(exc, TimeLimitExceeded):
        return "time_limit"
    return "unexpected"
