"""Where job state lives: written by the push script under the queue's tag, found by probing."""

from __future__ import annotations

import os
from typing import Any

import pytest

from queueing.keys import QueueKeys
from switchyard.runtime import Runtime
from switchyard.services import jobs as service
from tests.integration.credentials.api_helpers import org_keys
from tests.integration.jobs.conftest import noop


def sync_job(org: str) -> dict[str, Any]:
    return {"kind": "sync", "org_id": org, "provider": "hubspot", "payload": {"model": "deals"}}


def test_enqueue_sends_one_script_call_and_no_other_command(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job and its state cost one EVALSHA (a batch: one per queue), no pipeline beside it."""
    org = org_keys(runtime)["a"]
    runtime.enqueuer.enqueue_many([{**noop(), "org_id": org}, sync_job(org)])  # scripts loaded
    runtime.enqueuer.enqueue({**noop(), "org_id": org})
    sent: list[str] = []
    real_execute, real_pipeline = runtime.redis.execute_command, runtime.redis.pipeline
    monkeypatch.setattr(
        runtime.redis,
        "execute_command",
        lambda *args, **kw: sent.append(str(args[0])) or real_execute(*args, **kw),
    )
    monkeypatch.setattr(
        runtime.redis,
        "pipeline",
        lambda *args, **kw: sent.append("pipeline") or real_pipeline(*args, **kw),
    )
    job_id = runtime.enqueuer.enqueue({**noop(), "org_id": org}).job_id
    assert sent == ["EVALSHA"]
    sent.clear()
    answers = runtime.enqueuer.enqueue_many([{**noop(), "org_id": org}] * 3 + [sync_job(org)])
    assert sent == ["EVALSHA", "EVALSHA"]
    monkeypatch.undo()
    ids = [a.job_id for a in answers if not isinstance(a, Exception)]
    assert all(runtime.job_states.get(i, org) for i in [job_id, *ids])


def test_state_lives_under_the_queue_tag_and_is_found_by_org_or_admin(runtime: Runtime) -> None:
    """The hash is ``<queue tag>:job:<id>``; the owner org and an admin find it in any
    queue, another org does not."""
    keys = org_keys(runtime)
    a, b = keys["a"], keys["b"]
    action = runtime.enqueuer.enqueue({**noop(), "org_id": a}).job_id
    sync = runtime.enqueuer.enqueue(sync_job(a)).job_id
    namespace = runtime.settings.workers.namespace
    assert runtime.redis.exists(QueueKeys(namespace, "sync").lane(f"job:{sync}"))
    assert runtime.redis.exists(QueueKeys(namespace, "action").lane(f"job:{action}"))
    for org in (a, None):
        assert service.get_job(runtime.job_states, sync, org).queue == "sync"
        assert service.get_job(runtime.job_states, action, org).queue == "action"
    with pytest.raises(service.UnknownJobError):
        service.get_job(runtime.job_states, sync, b)


def test_listing_merges_the_orgs_queues_newest_first(runtime: Runtime) -> None:
    """An org's list holds its jobs of every queue, newest first, and no other org's."""
    keys = org_keys(runtime)
    first = runtime.enqueuer.enqueue({**noop(), "org_id": keys["a"]}).job_id
    second = runtime.enqueuer.enqueue(sync_job(keys["a"])).job_id
    runtime.enqueuer.enqueue({**noop(), "org_id": keys["b"]})
    page = service.list_jobs(runtime.job_states, keys["a"], service.JobFilter())
    assert sorted(view.id for view in page.jobs) == sorted([first, second])
    order = [(view.enqueued_at, view.id) for view in page.jobs]
    assert order == sorted(order, reverse=True)


def test_a_duplicate_leaves_no_state_of_its_own(runtime: Runtime) -> None:
    """The push script writes state only for a job it laned: a repeated key's job has none."""
    org = org_keys(runtime)["a"]
    ids = [os.urandom(16).hex() for _ in range(2)]
    jobs = [{**noop(), "org_id": org, "id": i, "idempotency_key": "same"} for i in ids]
    answers = runtime.enqueuer.enqueue_many(jobs)
    assert [getattr(a, "duplicate", None) for a in answers] == [False, True]
    assert runtime.job_states.get(ids[0]) is not None
    assert runtime.job_states.get(ids[1]) is None
