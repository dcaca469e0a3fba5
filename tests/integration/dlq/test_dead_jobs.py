"""Selecting, replaying and purging dead jobs (switchyard.services.dead_jobs), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.models import Organization
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from switchyard.services.dead_jobs import (
    DeadJobQuery,
    InvalidSelectionError,
    UnknownDeadJobsError,
    list_dead_jobs,
    parse_selection,
    purge,
    replay,
    show_dead_job,
)
from tests.conftest import unique
from tests.integration.dlq.conftest import audit_events, dead_job, dead_jobs, park
from tests.integration.workers.test_pipeline import drain


def select(runtime: Runtime, **fields: Any) -> Any:
    with runtime.sessions() as session:
        ids = tuple(fields.pop("ids", ()))
        return parse_selection(session, DeadJobQuery(ids=ids, **fields))


def replay_ids(runtime: Runtime, *ids: str) -> Any:
    return replay(runtime.sessions, runtime.enqueuer.enqueue, select(runtime, ids=ids), actor="cli")


def listed(runtime: Runtime, **fields: Any) -> list[str]:
    return [
        item["id"] for item in list_dead_jobs(runtime.sessions, select(runtime, **fields)).items
    ]


def test_replayed_job_that_fails_again_is_dead_lettered_again(
    runtime: Runtime, org_id: str, teleport: dict[str, Any]
) -> None:
    """Replay is a new job (new id, fresh attempts, same correlation id) that lands again."""
    original = runtime.enqueuer.enqueue(teleport).job_id
    drain(runtime)
    [first] = dead_jobs(runtime, org_id)
    assert first.job_id == original

    report = replay_ids(runtime, first.id)
    assert report.refused == []
    [done] = report.replayed
    assert (done.dead_job_id, done.original_job_id) == (first.id, original)
    assert done.job_id != original
    drain(runtime)

    again = next(d for d in dead_jobs(runtime, org_id) if d.id != first.id)
    assert again.job_id == done.job_id and again.attempts == 1
    assert again.error_class == "connection_error"
    assert again.envelope["correlation_id"] == "corr-1"
    assert again.envelope["payload"] == first.envelope["payload"]
    assert again.envelope["idempotency_key"] == f"dlq-replay:{first.id}:1"
    marked = dead_job(runtime, first.id)
    assert marked.replayed_at is not None and marked.replay_count == 1
    assert again.replayed_at is None


def test_original_idempotency_key_does_not_swallow_the_replay(
    runtime: Runtime, org_id: str, teleport: dict[str, Any]
) -> None:
    """Within the original key's window, the replay still enqueues a new job."""
    original = runtime.enqueuer.enqueue(teleport).job_id
    assert runtime.enqueuer.enqueue(teleport).duplicate  # the key is live
    dead_id = park(runtime, org_id, id=original)
    [done] = replay_ids(runtime, dead_id).replayed
    assert done.job_id != original


def test_replay_is_audited_with_the_new_job_id(runtime: Runtime, org_id: str) -> None:
    """Each replay records dlq.replayed: actor, dead job id and the new job id."""
    dead_id = park(runtime, org_id)
    [done] = replay_ids(runtime, dead_id).replayed
    [event] = audit_events(runtime, org_id, "dlq.replayed")
    assert event.actor == "cli" and event.subject_id == dead_id
    assert event.details["dead_job_id"] == dead_id
    assert event.details["job_id"] == done.job_id


def test_replaying_an_id_again_makes_another_job(runtime: Runtime, org_id: str) -> None:
    """Naming a dead job already replayed replays it again on purpose (count 2)."""
    dead_id = park(runtime, org_id)
    [first] = replay_ids(runtime, dead_id).replayed
    [second] = replay_ids(runtime, dead_id).replayed
    assert first.job_id != second.job_id
    assert dead_job(runtime, dead_id).replay_count == 2


def test_replay_by_filter_skips_jobs_already_replayed(runtime: Runtime, org_id: str) -> None:
    """Running the same filtered replay twice does not run the same work twice."""
    ids = {park(runtime, org_id) for _ in range(3)}
    selection = select(runtime, org=org_id)
    first = replay(runtime.sessions, runtime.enqueuer.enqueue, selection, actor="cli")
    assert {r.dead_job_id for r in first.replayed} == ids
    second = replay(runtime.sessions, runtime.enqueuer.enqueue, selection, actor="cli")
    assert second.replayed == [] and second.refused == []


def test_replay_by_filter_honours_the_limit(runtime: Runtime, org_id: str) -> None:
    """``limit`` caps how many dead jobs one replay sends back."""
    for _ in range(3):
        park(runtime, org_id)
    report = replay(
        runtime.sessions,
        runtime.enqueuer.enqueue,
        select(runtime, org=org_id, limit=2),
        actor="cli",
    )
    assert len(report.replayed) == 2


def test_invalid_envelopes_are_refused_with_reason_and_others_replayed(
    runtime: Runtime, org_id: str
) -> None:
    """Deleted org or removed provider: that dead job is refused with why; the rest go on."""
    with runtime.sessions.begin() as session:
        doomed = OrganizationRepository(session).create(unique("doomed")).id
    gone_org = park(runtime, doomed)
    with runtime.sessions.begin() as session:
        session.delete(session.get(Organization, doomed))
    gone_provider = park(runtime, org_id, provider="myspace")
    fine = park(runtime, org_id)

    report = replay_ids(runtime, gone_org, gone_provider, fine)
    assert [r.dead_job_id for r in report.replayed] == [fine]
    reasons = {r.dead_job_id: r.reason for r in report.refused}
    assert "org_id: unknown organization" in reasons[gone_org]
    assert "provider: unknown provider 'myspace'" in reasons[gone_provider]
    assert dead_job(runtime, gone_org).replayed_at is None
    assert dead_job(runtime, gone_provider).replayed_at is None
    assert audit_events(runtime, doomed, "dlq.replayed") == []


def test_unknown_ids_are_named_and_nothing_is_replayed(runtime: Runtime, org_id: str) -> None:
    """One unknown id among known ones: the error names it, no job is replayed."""
    known = park(runtime, org_id)
    with pytest.raises(UnknownDeadJobsError) as exc:
        replay_ids(runtime, known, "f" * 32)
    assert exc.value.ids == ["f" * 32] and "f" * 32 in str(exc.value)
    assert dead_job(runtime, known).replay_count == 0


def test_replaying_a_purged_job_is_not_found(runtime: Runtime, org_id: str) -> None:
    """After a purge, replaying that id names it as not found (purged)."""
    dead_id = park(runtime, org_id)
    purge(runtime.sessions, select(runtime, ids=[dead_id]), actor="cli")
    with pytest.raises(UnknownDeadJobsError, match="purged"):
        replay_ids(runtime, dead_id)
    with pytest.raises(UnknownDeadJobsError):
        show_dead_job(runtime.sessions, dead_id)


def test_purge_deletes_the_selection_and_audits_it(runtime: Runtime, org_id: str) -> None:
    """Purge by filter deletes only what matches, returns the ids, and records dlq.purged."""
    doomed = {park(runtime, org_id, error_class="permanent") for _ in range(2)}
    kept = park(runtime, org_id, error_class="transient")
    report = purge(
        runtime.sessions, select(runtime, org=org_id, error_class="permanent"), actor="cli"
    )
    assert set(report.purged) == doomed
    assert [d.id for d in dead_jobs(runtime, org_id)] == [kept]
    [event] = audit_events(runtime, org_id, "dlq.purged")
    assert set(event.details["dead_job_ids"]) == doomed and event.details["count"] == 2


def test_filters_select_by_each_field(runtime: Runtime, org_id: str) -> None:
    """org, provider, kind, error class and time bounds each narrow the list."""
    now = datetime.now(UTC)
    old = park(runtime, org_id, dead_at=now - timedelta(hours=3), error_class="transient")
    slack = park(runtime, org_id, dead_at=now - timedelta(minutes=30), provider="slack")
    sync = park(
        runtime,
        org_id,
        dead_at=now - timedelta(minutes=20),
        kind="sync",
        payload={"model": "contacts", "mode": "full"},
    )
    with runtime.sessions() as session:
        org_name = session.get(Organization, org_id).name  # type: ignore[union-attr]
    assert set(listed(runtime, org=org_name)) == {old, slack, sync}
    assert listed(runtime, org=org_id, provider="slack") == [slack]
    assert listed(runtime, org=org_id, kind="sync") == [sync]
    assert listed(runtime, org=org_id, error_class="transient") == [old]
    assert listed(runtime, org=org_id, since="1h") == [sync, slack]
    assert listed(runtime, org=org_id, until="1h") == [old]
    window = {"since": (now - timedelta(minutes=40)).isoformat(), "until": "25m"}
    assert listed(runtime, org=org_id, **window) == [slack]
    assert listed(runtime, ids=[old, sync]) == [sync, old]


def test_list_pages_with_total(runtime: Runtime, org_id: str) -> None:
    """A page has at most ``limit`` items, the total, and where the next page starts."""
    for _ in range(3):
        park(runtime, org_id)
    selection = select(runtime, org=org_id, limit=2)
    first = list_dead_jobs(runtime.sessions, selection)
    second = list_dead_jobs(runtime.sessions, selection, offset=2)
    assert (len(first.items), first.total, first.next_offset) == (2, 3, 2)
    assert (len(second.items), second.next_offset) == (1, None)


def test_org_filter_accepts_a_deleted_orgs_id_while_it_has_dead_jobs(runtime: Runtime) -> None:
    """The DLQ outlives orgs: filtering by a deleted org's id still finds its dead jobs."""
    with runtime.sessions.begin() as session:
        gone = OrganizationRepository(session).create(unique("gone")).id
    dead_id = park(runtime, gone)
    with runtime.sessions.begin() as session:
        session.delete(session.get(Organization, gone))
    assert listed(runtime, org=gone) == [dead_id]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-11-01T09:00:00"}, "until"),
        ({"since": "1h", "until": "2h"}, "until"),
        ({"kind": "teleport"}, "kind"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"org": "ghost-org"}, "org"),
        ({"provider": ""}, "provider"),
        ({"error_class": "x" * 201}, "error_class"),
        ({"ids": ["a"] * 0 + [str(n) for n in range(1_001)]}, "id"),
    ],
)
def test_malformed_filters_name_the_field(
    runtime: Runtime, fields: dict[str, Any], field: str
) -> None:
    """Each malformed filter is refused with the field at fault."""
    with pytest.raises(InvalidSelectionError) as exc:
        select(runtime, **fields)
    assert field in [e.field for e in exc.value.errors]
