"""Every page request of a sync passes the shared rate limiter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.envelope import SyncJob
from storage.repositories.syncs import SyncRepository
from switchyard.runtime import Runtime
from tests.conftest import sandboxed_runtime
from tests.integration.syncs.helpers import HIGH_LIMITS, connect, last_run, run_sync_job
from workers.errors import SlotDeferred
from workers.limiter import Limiter
from workers.sync import SyncOptions, run_sync

pytestmark = pytest.mark.integration


def test_each_page_after_the_first_takes_a_limiter_slot(
    synced: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A five-page sync asks the limiter five times: once per page, as it is sent."""
    assert synced.sandbox is not None
    synced.sandbox.datasets.dataset("hubspot", "deals", seed=450)
    c = connect(synced, "hubspot")
    asked: list[str] = []
    acquire = Limiter.acquire

    def counting(self: Limiter, key: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(key)
        return acquire(self, key, *args, **kwargs)

    monkeypatch.setattr(Limiter, "acquire", counting)
    run_sync_job(synced, c, "deals", "full")
    assert last_run(synced, c, "deals").pages == 5
    assert len(asked) == 5 and len(set(asked)) == 1


@pytest.fixture
def slow_limit(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """HubSpot limited to one request a minute by our own limiter."""
    providers = {**HIGH_LIMITS, "hubspot": {"rate_limit": {"limit": 1, "period_seconds": 60}}}
    yield from sandboxed_runtime(
        backend="embedded",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=providers,
    )


def test_a_long_wait_pauses_the_run_at_its_checkpoint(slow_limit: Runtime) -> None:
    """When the next slot is far off the attempt ends SlotDeferred (a deferral) with the run
    open at the next page, and the slot's wait as retry_after."""
    assert slow_limit.sandbox is not None
    slow_limit.sandbox.datasets.dataset("hubspot", "deals", seed=250)
    c = connect(slow_limit, "hubspot")
    job = SyncJob.model_validate(
        {"kind": "sync", "org_id": c.org_id, "provider": "hubspot", "payload": {"model": "deals"}}
    )
    with pytest.raises(SlotDeferred) as paused:
        run_sync(
            slow_limit.worker_context,
            job,
            SyncOptions(slow_limit.worker_context.sync_lease_seconds),
        )
    assert paused.value.retry_after is not None and paused.value.retry_after > 30
    run = last_run(slow_limit, c, "deals")
    assert (run.status, run.pages) == ("running", 1)
    with slow_limit.sessions() as session:
        state = SyncRepository(session, c.org_id).state(c.connection_id, "deals")
    assert state.page_checkpoint is not None
    assert state.page_checkpoint["request"]["params"]["after"] == "100"
