"""Sync runs against the sandbox: every definition, deletes, hash skips, incremental cursors,
Google's sync token, malformed pages — on SQLite and on real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from providers.syncs import SyncModelSpec, load_sync_models
from storage.repositories.dead_jobs import DeadJobRepository
from storage.repositories.records import RecordRepository
from storage.repositories.syncs import SyncRepository
from switchyard.runtime import Runtime
from tests.integration.syncs.helpers import (
    connect,
    last_run,
    run_sync_job,
    stored_ids,
)
from workers.sync import runs

pytestmark = pytest.mark.integration

DEFINITIONS = list(load_sync_models())


def page_size(rt: Runtime, spec: SyncModelSpec) -> int:
    pagination = spec.pagination or rt.catalog.get(spec.provider).pagination
    size = int(getattr(pagination, "page_size", 100))
    return 200 if spec.provider == "salesforce" else size  # the sandbox's query batch


@pytest.mark.parametrize("spec", DEFINITIONS, ids=lambda s: f"{s.provider}-{s.model}")
def test_every_definition_syncs_all_pages_from_the_sandbox(
    pg_synced: Runtime, spec: SyncModelSpec
) -> None:
    """Each shipped definition walks several pages and stores exactly the provider's records."""
    assert pg_synced.sandbox is not None
    size = page_size(pg_synced, spec)
    data = pg_synced.sandbox.datasets.dataset(spec.provider, spec.model, seed=size + size // 2)
    c = connect(pg_synced, spec.provider)
    run_sync_job(pg_synced, c, spec.model, "full")
    run = last_run(pg_synced, c, spec.model)
    assert (run.status, run.error) == ("succeeded", None)
    assert run.pages >= 2
    assert run.added == len(data.ids())
    assert stored_ids(pg_synced, c, spec.model) == data.ids()


def test_a_config_value_with_path_characters_stays_one_path_segment(synced: Runtime) -> None:
    """A list id holding ``?`` and ``/`` is URL-quoted into the path, not cutting it short."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("mailchimp", "members", seed=30)
    c = connect(synced, "mailchimp", config={"list_id": "L1?x=1"})
    run_sync_job(synced, c, "members", "full")
    run = last_run(synced, c, "members")
    assert (run.status, run.error) == ("succeeded", None)
    assert stored_ids(synced, c, "members") == data.ids()


def test_full_sync_marks_records_the_provider_lost_as_deleted(synced: Runtime) -> None:
    """Records gone from the provider are marked deleted by the next full sync, and counted."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("hubspot", "contacts", seed=230)
    c = connect(synced, "hubspot")
    run_sync_job(synced, c, "contacts", "full")
    data.delete("3")
    data.delete("150")
    run_sync_job(synced, c, "contacts", "full")
    run = last_run(synced, c, "contacts")
    assert (run.status, run.deleted, run.unchanged, run.added) == ("succeeded", 2, 228, 0)
    assert stored_ids(synced, c, "contacts") == data.ids()
    with synced.sessions() as session:
        assert RecordRepository(session, c.org_id).count(c.connection_id, "contacts") == 228
        total = RecordRepository(session, c.org_id).count(
            c.connection_id, "contacts", include_deleted=True
        )
    assert total == 230


def test_unchanged_records_are_skipped_by_hash_and_counted(synced: Runtime) -> None:
    """A re-sync rewrites only records whose content changed; the rest count as unchanged."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("shopify", "products", seed=300)
    c = connect(synced, "shopify")
    run_sync_job(synced, c, "products", "full")
    changed = next(iter(sorted(data.ids())))
    data.update(changed, {"title": "Renamed"})
    run_sync_job(synced, c, "products", "full")
    run = last_run(synced, c, "products")
    assert (run.added, run.updated, run.unchanged, run.deleted) == (0, 1, 299, 0)
    with synced.sessions() as session:
        page = RecordRepository(session, c.org_id).list(model="products", limit=1000)
        titles = {r.external_id: r.data["title"] for r in page.records}
    assert titles[changed] == "Renamed"


def test_incremental_sync_fetches_only_changes_after_the_kept_cursor(synced: Runtime) -> None:
    """The second incremental run sends the stored cursor and sees only the changed records."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("hubspot", "deals", seed=150)
    c = connect(synced, "hubspot")
    run_sync_job(synced, c, "deals")
    first = last_run(synced, c, "deals")
    assert (first.mode, first.added) == ("full", 150)  # no cursor yet: a full listing
    data.update("50007", {"archived": True})
    data.add(2)
    run_sync_job(synced, c, "deals")
    second = last_run(synced, c, "deals")
    assert (second.mode, second.pages, second.added, second.updated) == ("incremental", 1, 2, 1)
    assert second.deleted == 0  # an incremental listing says nothing about absent records
    assert stored_ids(synced, c, "deals") == data.ids()
    with synced.sessions() as session:
        state = SyncRepository(session, c.org_id).state(c.connection_id, "deals")
        assert state.provider_cursor is not None and state.last_status == "succeeded"


def test_google_sync_token_tracks_changes_and_cancellations(synced: Runtime) -> None:
    """With a sync token, changed events are updated and cancelled ones marked deleted."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("google_calendar", "events", seed=40)
    c = connect(synced, "google_calendar")
    run_sync_job(synced, c, "events")
    data.delete("evt00004")
    data.update("evt00005", {"summary": "moved"})
    run_sync_job(synced, c, "events")
    run = last_run(synced, c, "events")
    assert (run.mode, run.updated, run.deleted, run.added) == ("incremental", 1, 1, 0)
    assert stored_ids(synced, c, "events") == data.ids()


def test_expired_google_sync_token_triggers_a_full_resync(synced: Runtime) -> None:
    """A 410 Gone on the sync token restarts the run as a full sync, which detects deletes."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("google_calendar", "events", seed=30)
    c = connect(synced, "google_calendar")
    run_sync_job(synced, c, "events")
    data.delete("evt00002")
    data.add(3)
    data.expire_sync_tokens()
    run_sync_job(synced, c, "events")
    run = last_run(synced, c, "events")
    assert (run.status, run.mode, run.added, run.deleted) == ("succeeded", "full", 3, 1)
    assert stored_ids(synced, c, "events") == data.ids()
    with synced.sessions() as session:
        state = SyncRepository(session, c.org_id).state(c.connection_id, "events")
        assert state.provider_cursor is not None and state.provider_cursor.startswith("sync-")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"properties": {}}, "hubspot contacts page 2 record 1: missing id at 'id'"),
        ({"id": {"n": 1}}, "hubspot contacts page 2 record 1: id at 'id' must be a string or"),
        ("not-an-object", "hubspot contacts page 2 record 1: expected an object, got str"),
        ({"id": "x", "updatedAt": [1]}, "(id 'x'): updated-at at 'updatedAt' must be a string"),
    ],
)
def test_malformed_page_fails_the_run_and_keeps_prior_records(
    synced: Runtime, bad: object, message: str
) -> None:
    """A bad record fails the run naming it; no deletes are applied; the job is dead-lettered."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("hubspot", "contacts", seed=100)
    c = connect(synced, "hubspot")
    run_sync_job(synced, c, "contacts", "full")
    before = stored_ids(synced, c, "contacts")
    data.delete("1")
    data.add(1)
    data.put_raw(bad)  # record 101: the first of page 2
    run_sync_job(synced, c, "contacts", "full")
    run = last_run(synced, c, "contacts")
    assert run.status == "failed"
    assert message in run.error
    # Page 1 (with the new "101") was committed before page 2 failed; "1" is not deleted.
    assert stored_ids(synced, c, "contacts") == before | {"101"}
    with synced.sessions() as session:
        dead = DeadJobRepository(session, c.org_id).list()
        state = SyncRepository(session, c.org_id).state(c.connection_id, "contacts")
        assert (state.run_id, state.last_status) == (None, "failed")
    assert [d.error_class for d in dead] == ["sync_data"]
    assert message in dead[0].error_message


def test_items_that_are_not_a_list_fail_the_run(synced: Runtime) -> None:
    """A page whose records are not a list is refused with the path that was expected."""
    from providers.syncs.spec import SyncModelSpec
    from workers.sync.records import SyncDataError, items_of

    spec = SyncModelSpec(provider="hubspot", model="contacts", path="/x", id_path="id")
    with pytest.raises(SyncDataError, match="page 3: expected a list at 'results', got dict"):
        items_of(spec, {"results": {"id": "1"}}, "results", 3)


def test_second_job_while_a_run_is_live_is_coalesced(synced: Runtime) -> None:
    """A job finding another job's live run joins it: no second run, nothing fetched."""
    assert synced.sandbox is not None
    synced.sandbox.datasets.dataset("hubspot", "contacts", seed=10)
    c = connect(synced, "hubspot")
    key = runs.RunKey(c.org_id, c.connection_id, "hubspot", "contacts", "a" * 32, timedelta(60))
    held = runs.claim(synced.sessions, key, "full", lambda mode, cursor: {"request": {}})
    assert held is not None
    run_sync_job(synced, c, "contacts", "full")
    with synced.sessions() as session:
        all_runs = SyncRepository(session, c.org_id).runs(connection_id=c.connection_id)
    assert [r.id for r in all_runs] == [held.run_id]
    assert synced.sandbox.datasets.fetch_count("hubspot", "contacts") == 0


def test_expired_lease_is_taken_over_and_the_run_resumed(synced: Runtime) -> None:
    """A run whose driver vanished (lease expired) is resumed by the next job, not restarted."""
    assert synced.sandbox is not None
    data = synced.sandbox.datasets.dataset("hubspot", "contacts", seed=20)
    c = connect(synced, "hubspot")
    key = runs.RunKey(c.org_id, c.connection_id, "hubspot", "contacts", "b" * 32, timedelta(0))
    first = {"request": {"url": "/crm/v3/objects/contacts", "params": {"limit": 10}}}
    held = runs.claim(synced.sessions, key, "full", lambda mode, cursor: first)
    assert held is not None
    run_sync_job(synced, c, "contacts", "full")
    run = last_run(synced, c, "contacts")
    assert (run.id, run.status, run.resumes, run.added) == (held.run_id, "succeeded", 1, 20)
    assert stored_ids(synced, c, "contacts") == data.ids()


def test_page_fetched_from_a_stale_checkpoint_is_not_committed(synced: Runtime) -> None:
    """A page whose starting checkpoint is no longer the stored one writes nothing."""
    from storage.repositories.records import RecordRow
    from workers.sync.records import PageRows

    c = connect(synced, "hubspot")
    key = runs.RunKey(c.org_id, c.connection_id, "hubspot", "deals", "d" * 32, timedelta(60))
    stored = {"request": {"url": "/a", "params": None}}
    held = runs.claim(synced.sessions, key, "full", lambda mode, cursor: stored)
    assert held is not None
    page = PageRows(rows=[RecordRow("1", {"id": "1"}, "h")])
    stale = {"request": {"url": "/old", "params": None}}
    with pytest.raises(runs.CheckpointMoved):
        runs.commit_page(synced.sessions, key, held, page, stale, None, None)
    assert stored_ids(synced, c, "deals") == set()
    runs.commit_page(synced.sessions, key, held, page, stored, None, None)
    assert stored_ids(synced, c, "deals") == {"1"}


def test_a_sync_dead_lettered_mid_run_closes_its_run_and_a_new_job_starts_afresh(
    synced: Runtime,
) -> None:
    """Retries spent on 503s: the run is failed at once (not left running until its lease
    expires), and the next job — a DLQ replay, say — runs instead of being coalesced."""
    assert synced.sandbox is not None
    synced.sandbox.datasets.dataset("hubspot", "contacts", seed=30)
    c = connect(synced, "hubspot")
    synced.sandbox.inject("hubspot", server_errors=50)
    labels = {"provider": "hubspot", "model": "contacts", "outcome": "failed"}
    failed_before = REGISTRY.get_sample_value("switchyard_sync_runs_total", labels) or 0.0
    run_sync_job(synced, c, "contacts", "full")
    assert REGISTRY.get_sample_value("switchyard_sync_runs_total", labels) == failed_before + 1
    failed = last_run(synced, c, "contacts")
    assert failed.status == "failed" and "dead-lettered (server_error)" in failed.error
    with synced.sessions() as session:
        state = SyncRepository(session, c.org_id).state(c.connection_id, "contacts")
        assert (state.run_id, state.lease_owner, state.last_status) == (None, None, "failed")
        [dead] = DeadJobRepository(session, c.org_id).list()
    assert dead.error_class == "server_error"
    synced.sandbox.clear_faults()
    run_sync_job(synced, c, "contacts", "full")
    again = last_run(synced, c, "contacts")
    assert again.id != failed.id and again.status == "succeeded"
    assert len(stored_ids(synced, c, "contacts")) == 30
