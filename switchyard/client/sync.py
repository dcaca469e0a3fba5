"""The blocking client: ``Client(base_url, api_key)``; see :mod:`switchyard.client`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from switchyard.client import calls
from switchyard.client.calls import Call, JobLike, Polling, Retries
from switchyard.client.errors import TransportError, WaitTimeout, error_for
from switchyard.client.models import (
    CheckResult,
    Connection,
    ConnectionPage,
    DeadJob,
    DeadJobPage,
    DeadJobsReplayed,
    EventPublished,
    JobBatchResult,
    JobCreated,
    JobStatus,
)

M = TypeVar("M", bound=BaseModel)


class Client:
    """Switchyard's HTTP API over httpx, typed; one per process is enough (thread-safe)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: Retries | None = None,
        polling: Polling | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )
        self.retries = retries or Retries()
        self.polling = polling or Polling()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # jobs
    def enqueue(self, job: JobLike) -> JobCreated:
        """Enqueue one job; ``duplicate`` is true when its idempotency key was seen before."""
        return self._run(calls.enqueue(job))

    def enqueue_batch(self, jobs: Sequence[JobLike]) -> JobBatchResult:
        """Enqueue up to 1,000 jobs; per-item ids or errors, ``accepted``/``rejected`` counts."""
        return self._run(calls.enqueue_batch(jobs))

    def get(self, job_id: str) -> JobStatus:
        """The job's state, attempts, timestamps and result summary."""
        return self._run(calls.get_job(job_id))

    def cancel(self, job_id: str) -> JobStatus:
        """Cancel a queued or waiting job (a running one is not retried); 409 once finished."""
        return self._run(calls.cancel_job(job_id))

    def wait(self, job_id: str, *, timeout: float = 60.0) -> JobStatus:
        """Poll with backoff until the job succeeded, died or was cancelled, or raise
        :class:`WaitTimeout` (carrying the last state) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        interval = self.polling.initial
        while True:
            status = self.get(job_id)
            left = deadline - time.monotonic()
            if status.finished:
                return status
            if left <= 0:
                raise WaitTimeout(f"job {job_id} still {status.state} after {timeout}s", status)
            time.sleep(min(interval, left))
            interval = self.polling.next(interval)

    # events
    def publish_event(
        self,
        type: str,
        data: Mapping[str, Any],
        *,
        org_id: str | None = None,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> EventPublished:
        """Publish an event of the org, fanned out to its webhook endpoints and routes."""
        call = calls.publish_event(
            type,
            data,
            org_id=org_id,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )
        return self._run(call)

    # dead jobs
    def dead_jobs(self, **filters: Any) -> DeadJobPage:
        """List dead jobs: ``org``, ``provider``, ``kind``, ``error_class``, ``since``...;
        ``limit``/``offset`` page through them."""
        return self._run(calls.list_dead_jobs(**filters))

    def dead_job(self, dead_job_id: str) -> DeadJob:
        return self._run(calls.show_dead_job(dead_job_id))

    def replay_dead_jobs(self, ids: Sequence[str]) -> DeadJobsReplayed:
        """Replay dead jobs by id: each becomes a new job (audited)."""
        return self._run(calls.replay_dead_jobs(list(ids)))

    # connections
    def connections(
        self, *, org_id: str | None = None, provider: str | None = None
    ) -> ConnectionPage:
        return self._run(calls.list_connections(org_id, provider))

    def connection(self, connection_id: str, *, org_id: str | None = None) -> Connection:
        return self._run(calls.show_connection(connection_id, org_id))

    def check_connection(self, connection_id: str, *, org_id: str | None = None) -> CheckResult:
        """Make one cheap authenticated call to the provider with the connection's credential."""
        return self._run(calls.check_connection(connection_id, org_id))

    def _run(self, call: Call[M]) -> M:
        response = self._send(call)
        if response.status_code >= 400:
            raise error_for(response)
        return call.settle(call.answer.model_validate(response.json()))

    def _send(self, call: Call[Any]) -> httpx.Response:
        headers = calls.headers(call)
        for attempt in range(self.retries.attempts):
            last = attempt == self.retries.attempts - 1
            try:
                response = self._http.request(
                    call.method, call.path, json=call.json, params=call.params, headers=headers
                )
            except httpx.TransportError as exc:
                if last or not calls.retryable(call, None, exc):
                    raise TransportError(f"{call.method} {call.path}: {exc!r}") from exc
                time.sleep(self.retries.delay(attempt, None))
                continue
            if last or not calls.retryable(call, response, None):
                return response
            time.sleep(self.retries.delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover
