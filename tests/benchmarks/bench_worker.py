"""Worker boot for the execution benchmarks: Switchyard's worker plus one benchmark action.

``ping`` makes one real provider request through :func:`workers.provider_calls.call_provider`
(connection, credential, rate-limit slot at the send, feedback), and every provider request
of this process goes to ``BENCH_ENDPOINT`` (the referee, or any loopback receiver), so the
limiter is judged by what a provider would have seen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

import providers.client
from contract.envelope import ActionJob
from switchyard.worker_boot import broker  # noqa: F401  (Dramatiq's CLI looks it up)
from tests.referee import to_url
from workers.context import WorkerContext
from workers.handlers.action import BUILTIN_ACTIONS
from workers.provider_calls import call_provider

_pool = httpx.Client(
    transport=to_url(os.environ["BENCH_ENDPOINT"]), timeout=providers.client.DEFAULT_TIMEOUT
)
providers.client.shared_http_client = lambda policy=None: _pool  # every URL -> the endpoint


def ping(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
    call_provider(context, job, "GET", "/ping", params={"job": job.id})
    return {"ok": True}


BUILTIN_ACTIONS["ping"] = ping
