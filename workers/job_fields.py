"""What middleware need to know about a job message, parsed once per delivery.

Half a dozen middleware (logs, metrics, the rate limiter) identify the job they handle. Each
reading ``message.args`` through Dramatiq's ``MessageProxy`` and rebuilding the same strings
cost a measurable share of a no-op job; the first reader parses, the rest share the result,
cached on the proxy (one proxy per delivery, so a retry parses afresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dramatiq.broker import MessageProxy

_CACHE = "_switchyard_job_fields"


@dataclass(frozen=True, slots=True)
class JobFields:
    """Low-risk identifying fields of a job (never its payload); ``"?"`` where absent."""

    id: str
    kind: str
    provider: str
    org: str
    connection: str
    correlation_id: str
    queue: str

    def __str__(self) -> str:
        """``id=… kind=… provider=… org=…``: how log lines name a job (formatted lazily)."""
        return f"id={self.id} kind={self.kind} provider={self.provider} org={self.org}"


def job_fields(message: MessageProxy) -> JobFields:
    """The job's identifying fields (parsed on first use for this delivery)."""
    cached: JobFields | None = message.__dict__.get(_CACHE)
    if cached is None:
        cached = _parse(message)
        message.__dict__[_CACHE] = cached
    return cached


def _parse(message: MessageProxy) -> JobFields:
    args = message.args
    data: dict[str, Any] = args[0] if args and isinstance(args[0], dict) else {}
    job_id = str(data.get("id") or message.message_id)
    return JobFields(
        id=job_id,
        kind=str(data.get("kind") or "?"),
        provider=str(data.get("provider") or "?"),
        org=str(data.get("org_id") or "?"),
        connection=str(data.get("connection") or "default"),
        correlation_id=str(data.get("correlation_id") or job_id),
        queue=message.queue_name,
    )
