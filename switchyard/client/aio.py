"""The asyncio client: ``AsyncClient(base_url, api_key)``, the twin of :mod:`.sync`.

Every request and retry rule lives in :mod:`switchyard.client.calls`; this module only awaits.
"""

from __future__ import annotations

import asyncio
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


class AsyncClient:
    """Switchyard's HTTP API over httpx, typed, for asyncio; one per event loop."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: Retries | None = None,
        polling: Polling | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )
        self.retries = retries or Retries()
        self.polling = polling or Polling()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # jobs
    async def enqueue(self, job: JobLike) -> JobCreated:
        """Enqueue one job; ``duplicate`` is true when its idempotency key was seen before."""
        return await self._run(calls.enqueue(job))

    async def enqueue_batch(self, jobs: Sequence[JobLike]) -> JobBatchResult:
        """Enqueue up to 1,000 jobs; per-item ids or errors, ``accepted``/``rejected`` counts."""
        return await self._run(calls.enqueue_batch(jobs))

    async def get(self, job_id: str) -> JobStatus:
        """The job's state, attempts, timestamps and result summary."""
        return await self._run(calls.get_job(job_id))

    async def cancel(self, job_id: str) -> JobStatus:
        """Cancel a queued or waiting job (a running one is not retried); 409 once finished."""
        return await self._run(calls.cancel_job(job_id))

    async def wait(self, job_id: str, *, timeout: float = 60.0) -> JobStatus:
        """Poll with backoff until the job succeeded, died or was cancelled, or raise
        :class:`WaitTimeout` (carrying the last state) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        interval = self.polling.initial
        while True:
            status = await self.get(job_id)
            left = deadline - time.monotonic()
            if status.finished:
                return status
            if left <= 0:
                raise WaitTimeout(f"job {job_id} still {status.state} after {timeout}s", status)
            await asyncio.sleep(min(interval, left))
            interval = self.polling.next(interval)

    # events
    async def publish_event(
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
        return await self._run(call)

    # dead jobs
    async def dead_jobs(self, **filters: Any) -> DeadJobPage:
        """List dead jobs: ``org``, ``provider``, ``kind``, ``error_class``, ``since``...;
        ``limit``/``offset`` page through them."""
        return await self._run(calls.list_dead_jobs(**filters))

    async def dead_job(self, dead_job_id: str) -> DeadJob:
        return await self._run(calls.show_dead_job(dead_job_id))

    async def replay_dead_jobs(self, ids: Sequence[str]) -> DeadJobsReplayed:
        """Replay dead jobs by id: each becomes a new job (audited)."""
        return await self._run(calls.replay_dead_jobs(list(ids)))

    # connections
    async def connections(
        self, *, org_id: str | None = None, provider: str | None = None
    ) -> ConnectionPage:
        return await self._run(calls.list_connections(org_id, provider))

    async def connection(self, connection_id: str, *, org_id: str | None = None) -> Connection:
        return await self._run(calls.show_connection(connection_id, org_id))

    async def check_connection(
        self, connection_id: str, *, org_id: str | None = None
    ) -> CheckResult:
        """Make one cheap authenticated call to the provider with the connection's credential."""
        return await self._run(calls.check_connection(connection_id, org_id))

    async def _run(self, call: Call[M]) -> M:
        response = await self._send(call)
        if response.status_code >= 400:
            raise error_for(response)
        return call.settle(call.answer.model_validate(response.json()))

    async def _send(self, call: Call[Any]) -> httpx.Response:
        headers = calls.headers(call)
        for attempt in range(self.retries.attempts):
            last = attempt == self.retries.attempts - 1
            try:
                response = await self._http.request(
                    call.method, call.path, json=call.json, params=call.params, headers=headers
                )
            except httpx.TransportError as exc:
                if last or not calls.retryable(call, None, exc):
                    raise TransportError(f"{call.method} {call.path}: {exc!r}") from exc
                await asyncio.sleep(self.retries.delay(attempt, None))
                continue
            if last or not calls.retryable(call, response, None):
                return response
            await asyncio.sleep(self.retries.delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover
