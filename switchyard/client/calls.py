"""Each API operation as a :class:`Call` value, and the retry rule, shared by
:class:`~switchyard.client.Client` and :class:`~switchyard.client.AsyncClient` so the two
differ only in how they wait and send.

Retrying is safe because every POST carries an idempotency key: the job, batch item and event
bodies carry one (generated when the caller gave none), so a request whose answer was lost
returns the first job rather than a second one. POSTs with no key in their body (replay,
check) are retried only when nothing can have happened: a 503 (the server accepted nothing)
or a connection that was never established.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from switchyard.client.errors import retry_after_seconds
from switchyard.client.models import (
    CheckResult,
    Connection,
    ConnectionPage,
    DeadJob,
    DeadJobPage,
    DeadJobsReplayed,
    EventPublished,
    Job,
    JobBatchResult,
    JobCreated,
    JobStatus,
)

M = TypeVar("M", bound=BaseModel)
JobLike = Job | Mapping[str, Any]


@dataclass(frozen=True)
class Call(Generic[M]):
    """One request and the model of its answer; ``keyed``: the body holds an idempotency key."""

    method: str
    path: str
    answer: type[M]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    keyed: bool = False
    own_keys: frozenset[int] = frozenset()
    """Jobs (by index; 0 for a single job) whose key the client generated: a "duplicate"
    answer for one of those can only be this request's own earlier attempt."""

    def settle(self, answer: M) -> M:
        """The answer as the caller should see it: a retry's echo of itself is no duplicate."""
        if isinstance(answer, JobCreated) and 0 in self.own_keys and answer.duplicate:
            return answer.model_copy(update={"duplicate": False})
        if isinstance(answer, JobBatchResult) and self.own_keys:
            items = [
                i.model_copy(update={"duplicate": False})
                if i.index in self.own_keys and i.duplicate
                else i
                for i in answer.items
            ]
            return answer.model_copy(update={"items": items})
        return answer


@dataclass(frozen=True)
class Retries:
    """How often and how long to retry 503s and connection errors (full jitter, capped)."""

    attempts: int = 4
    base_seconds: float = 0.25
    max_seconds: float = 10.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds before attempt ``attempt + 1``: the server's Retry-After when it gave one."""
        hinted = retry_after_seconds(response) if response is not None else None
        if hinted is not None:
            return min(hinted, self.max_seconds)
        return random.uniform(0, min(self.max_seconds, self.base_seconds * 2**attempt))


def retryable(call: Call[Any], response: httpx.Response | None, error: Exception | None) -> bool:
    """Whether repeating ``call`` is both useful and safe after this outcome."""
    if response is not None:
        return response.status_code == 503
    if call.method in ("GET", "DELETE") or call.keyed:
        return isinstance(error, httpx.TransportError)
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)


def headers(call: Call[Any]) -> dict[str, str]:
    """An ``Idempotency-Key`` header on every POST (the body's key where it has one)."""
    if call.method != "POST":
        return {}
    key = call.json.get("idempotency_key") if isinstance(call.json, dict) else None
    return {"Idempotency-Key": key or uuid.uuid4().hex}


def _job_body(job: JobLike) -> tuple[dict[str, Any], bool]:
    """The job's JSON body, and whether its idempotency key was generated here."""
    model = job if isinstance(job, Job) else Job.model_validate(job)
    body = model.model_dump(mode="json", exclude_none=True)
    own = "idempotency_key" not in body
    body.setdefault("idempotency_key", f"client:{uuid.uuid4().hex}")
    return body, own


def _query(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def enqueue(job: JobLike) -> Call[JobCreated]:
    body, own = _job_body(job)
    mine = frozenset({0}) if own else frozenset()
    return Call("POST", "/v1/jobs", JobCreated, json=body, keyed=True, own_keys=mine)


def enqueue_batch(jobs: Sequence[JobLike]) -> Call[JobBatchResult]:
    bodies = [_job_body(job) for job in jobs]
    mine = frozenset(index for index, (_, own) in enumerate(bodies) if own)
    body = {"jobs": [b for b, _ in bodies]}
    return Call("POST", "/v1/jobs:batch", JobBatchResult, json=body, keyed=True, own_keys=mine)


def get_job(job_id: str) -> Call[JobStatus]:
    return Call("GET", f"/v1/jobs/{job_id}", JobStatus)


def cancel_job(job_id: str) -> Call[JobStatus]:
    return Call("DELETE", f"/v1/jobs/{job_id}", JobStatus)


def publish_event(
    type: str,
    data: Mapping[str, Any],
    *,
    org_id: str | None,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> Call[EventPublished]:
    body = _query(
        type=type,
        data=dict(data),
        org_id=org_id,
        idempotency_key=idempotency_key or f"client:{uuid.uuid4().hex}",
        correlation_id=correlation_id,
    )
    return Call("POST", "/v1/events", EventPublished, json=body, keyed=True)


def list_dead_jobs(**filters: Any) -> Call[DeadJobPage]:
    return Call("GET", "/v1/dlq", DeadJobPage, params=_query(**filters))


def show_dead_job(dead_job_id: str) -> Call[DeadJob]:
    return Call("GET", f"/v1/dlq/{dead_job_id}", DeadJob)


def replay_dead_jobs(ids: list[str]) -> Call[DeadJobsReplayed]:
    return Call("POST", "/v1/dlq/replay", DeadJobsReplayed, json={"ids": ids})


def list_connections(org_id: str | None, provider: str | None) -> Call[ConnectionPage]:
    params = _query(org_id=org_id, provider=provider)
    return Call("GET", "/v1/connections", ConnectionPage, params=params)


def show_connection(connection_id: str, org_id: str | None) -> Call[Connection]:
    params = _query(org_id=org_id)
    return Call("GET", f"/v1/connections/{connection_id}", Connection, params=params)


def check_connection(connection_id: str, org_id: str | None) -> Call[CheckResult]:
    params = _query(org_id=org_id)
    return Call("POST", f"/v1/connections/{connection_id}/check", CheckResult, params=params)


@dataclass(frozen=True)
class Polling:
    """``wait()``'s schedule: first poll after ``initial``, growing by ``factor`` to ``maximum``."""

    initial: float = 0.2
    factor: float = 1.5
    maximum: float = 5.0

    def next(self, interval: float) -> float:
        return min(self.maximum, interval * self.factor)
