"""A typed Python client of Switchyard's HTTP API, blocking and asyncio, on httpx.

Needs only httpx and pydantic (none of the server's dependencies)::

    from switchyard.client import Client

    with Client("https://switchyard.internal", api_key) as sy:
        job = sy.enqueue({"kind": "action", "provider": "slack",
                          "payload": {"action": "post_message", "input": {...}}})
        status = sy.wait(job.id, timeout=30)   # succeeded | dead | cancelled

Every POST carries an idempotency key (generated when the caller gives none), so 503s
(honouring ``Retry-After``) and connection errors are retried without enqueuing twice.
Errors: :mod:`switchyard.client.errors` draws the tree.
"""

from switchyard.client.aio import AsyncClient
from switchyard.client.calls import Polling, Retries
from switchyard.client.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SwitchyardError,
    TransportError,
    UnavailableError,
    WaitTimeout,
)
from switchyard.client.models import (
    CheckResult,
    Connection,
    DeadJob,
    EventPublished,
    Job,
    JobBatchResult,
    JobCreated,
    JobStatus,
)
from switchyard.client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "CheckResult",
    "Client",
    "ConflictError",
    "Connection",
    "DeadJob",
    "EventPublished",
    "InvalidInputError",
    "Job",
    "JobBatchResult",
    "JobCreated",
    "JobStatus",
    "NotFoundError",
    "PermissionDeniedError",
    "Polling",
    "Retries",
    "SwitchyardError",
    "TransportError",
    "UnavailableError",
    "WaitTimeout",
]
