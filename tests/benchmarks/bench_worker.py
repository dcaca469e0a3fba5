"""Worker boot for the execution benchmarks: Switchyard's worker plus one benchmark action.

``ping`` makes one real HTTP request to ``BENCH_ENDPOINT`` (a loopback receiver that
records arrival times), so the limiter is judged by what a provider would have seen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from switchyard.worker_boot import broker  # noqa: F401  (Dramatiq's CLI looks it up)
from workers.context import WorkerContext
from workers.envelope import ActionJob
from workers.handlers.action import BUILTIN_ACTIONS

_client = httpx.Client(timeout=10)


def ping(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
    _client.get(os.environ["BENCH_ENDPOINT"], params={"job": job.id})
    return {"ok": True}


BUILTIN_ACTIONS["ping"] = ping
