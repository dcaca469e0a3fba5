"""Jobs meeting an outage of Redis or PostgreSQL wait for it without spending attempts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from contract.envelope import ActionJob
from switchyard.runtime import Runtime
from tests.integration.workers.test_pipeline import dead_jobs, drain
from workers.errors import TransientJobError
from workers.handlers.action import BUILTIN_ACTIONS


def test_an_outage_spends_no_attempt(
    runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that met a database outage still gets all its attempts afterwards."""
    calls: list[str] = []

    def unlucky(job: ActionJob, context: object) -> Mapping[str, Any]:
        calls.append(job.id)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
        raise TransientJobError("provider answered 503")

    monkeypatch.setitem(BUILTIN_ACTIONS, "unlucky", unlucky)
    job = {"kind": "action", "org_id": org_id, "provider": "hubspot"}
    runtime.enqueuer.enqueue({**job, "payload": {"action": "unlucky"}})
    drain(runtime)
    attempts = runtime.settings.workers.max_retries + 1
    assert len(calls) == attempts + 1  # the outage, then every attempt
    [dead] = dead_jobs(runtime, org_id=org_id)
    assert dead.attempts == attempts and dead.error_class == "transient"
