"""job.succeeded and job.dead reach the org's signed webhook endpoint for notify jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import OutboundSettings
from tests.conftest import new_org, runtime_settings
from tests.integration.jobs.conftest import drain, noop
from tests.integration.webhooks.conftest import LOOPBACK
from tests.integration.webhooks.receiver import Receiver, serving


@pytest.fixture(params=["embedded", "servers"])
def loopback_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """Production defaults, but outbound requests may reach a loopback receiver."""
    settings = runtime_settings(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )
    outbound = OutboundSettings(allowed_networks=LOOPBACK)
    rt = build_runtime(settings.model_copy(update={"outbound": outbound}))
    yield rt
    rt.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def received(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]


def test_notify_jobs_end_with_signed_events(loopback_runtime: Runtime, receiver: Receiver) -> None:
    """A notify job that succeeds sends job.succeeded; one that dead-letters sends job.dead
    with its DLQ id; a job without notify sends nothing."""
    rt = loopback_runtime
    org = new_org(rt, "notify")
    with rt.sessions.begin() as session:
        repo = WebhookEndpointRepository(session, org, rt.keyring)
        issued = repo.create(receiver.url, event_types=["job.succeeded", "job.dead"])
    ok = rt.enqueuer.enqueue({**noop(notify=True), "org_id": org}).job_id
    bad = rt.enqueuer.enqueue(
        {
            **noop(notify=True, payload={"action": "proxy", "input": {"path": "/teleport"}}),
            "org_id": org,
        }
    )
    rt.enqueuer.enqueue({**noop(), "org_id": org})
    drain(rt)  # the jobs, then the deliveries they published
    events = {e["type"]: e["data"] for e in received(receiver, issued.secret.reveal())}
    assert set(events) == {"job.succeeded", "job.dead"}
    succeeded, dead = events["job.succeeded"], events["job.dead"]
    assert succeeded["job_id"] == ok and succeeded["state"] == "succeeded"
    assert succeeded["result"] == {"ok": True} and succeeded["action"] == "noop"
    assert dead["job_id"] == bad.job_id and dead["dead"]["reason"] == "connection_error"
    assert dead["dead"]["dead_job_id"]
    assert "payload" not in succeeded and "input" not in dead


def test_notify_must_be_a_boolean(loopback_runtime: Runtime) -> None:
    """notify: "yes" is refused at enqueue, naming the field."""
    from contract.envelope import InvalidJobError

    org = new_org(loopback_runtime, "notify")
    with pytest.raises(InvalidJobError) as exc:
        loopback_runtime.enqueuer.enqueue({**noop(notify="yes"), "org_id": org})
    assert [e.field for e in exc.value.errors] == ["notify"]
