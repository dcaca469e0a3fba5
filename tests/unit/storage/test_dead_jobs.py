"""Dead-letter queue repositories: add, filter, replay marks, purge, org scoping."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError, NotFoundError
from storage.repositories import AdminDeadJobRepository, DeadJobFilter, DeadJobRepository
from tests.unit.storage import builders


def _populate(session: Session) -> tuple[str, str]:
    """Two orgs, five dead jobs spread over providers, kinds, errors and days."""
    acme = builders.org(session, "acme").id
    globex = builders.org(session, "globex").id
    admin = AdminDeadJobRepository(session)
    rows = [
        (acme, "hubspot", "sync", "PermanentError", "2026-01-01T10:00:00+00:00"),
        (acme, "hubspot", "refresh", "InvalidGrant", "2026-01-02T10:00:00+00:00"),
        (acme, "slack", "action", "PermanentError", "2026-01-03T10:00:00+00:00"),
        (globex, "hubspot", "sync", "RetriesExhausted", "2026-01-02T12:00:00+00:00"),
        (globex, "stripe", "deliver", "PermanentError", "2026-01-04T10:00:00+00:00"),
    ]
    for n, (org_id, provider, kind, error_class, dead_at) in enumerate(rows):
        admin.add(
            builders.failed_job(
                org_id, job_id=f"job-{n}", provider=provider, kind=kind, error_class=error_class
            ),
            dead_at=builders.at(dead_at),
        )
    return acme, globex


def test_add_keeps_the_failure_context(sqlite_session: Session) -> None:
    """A dead job keeps its envelope, error, attempts and timestamps."""
    org = builders.org(sqlite_session)
    first = builders.at("2026-01-01T00:00:00+00:00")
    repo = DeadJobRepository(sqlite_session, org.id)
    added = repo.add(
        builders.failed_job(org.id, traceback_summary="Traceback...", first_attempt_at=first)
    )
    sqlite_session.commit()
    sqlite_session.expire_all()
    job = repo.get(added.id)
    assert job.envelope == {"kind": "sync", "org_id": org.id, "provider": "hubspot"}
    assert (job.error_class, job.error_message, job.attempts) == (
        "PermanentError",
        "400 Bad Request",
        3,
    )
    assert job.first_attempt_at == first
    assert job.dead_at.tzinfo is not None
    assert (job.replayed_at, job.replay_count) == (None, 0)


@pytest.mark.parametrize(
    ("where", "expected_jobs"),
    [
        (DeadJobFilter(), {"job-0", "job-1", "job-2", "job-3", "job-4"}),
        (DeadJobFilter(provider="hubspot"), {"job-0", "job-1", "job-3"}),
        (DeadJobFilter(kind="sync"), {"job-0", "job-3"}),
        (DeadJobFilter(error_class="PermanentError"), {"job-0", "job-2", "job-4"}),
        (
            DeadJobFilter(
                since=builders.at("2026-01-02T00:00:00+00:00"),
                until=builders.at("2026-01-03T10:00:00+00:00"),
            ),
            {"job-1", "job-3"},
        ),
        (DeadJobFilter(provider="hubspot", error_class="PermanentError"), {"job-0"}),
    ],
)
def test_admin_filters(
    sqlite_session: Session, where: DeadJobFilter, expected_jobs: set[str]
) -> None:
    """Each filter field narrows the operator's listing and count."""
    _populate(sqlite_session)
    admin = AdminDeadJobRepository(sqlite_session)
    assert {job.job_id for job in admin.list(where)} == expected_jobs
    assert admin.count(where) == len(expected_jobs)


def test_list_is_newest_first_and_pages(sqlite_session: Session) -> None:
    """list() orders by dead_at descending and honours limit and offset."""
    _populate(sqlite_session)
    admin = AdminDeadJobRepository(sqlite_session)
    assert [job.job_id for job in admin.list()] == ["job-4", "job-2", "job-3", "job-1", "job-0"]
    assert [job.job_id for job in admin.list(limit=2, offset=1)] == ["job-2", "job-3"]


@pytest.mark.parametrize(("limit", "offset", "field"), [(0, 0, "limit"), (1, -1, "offset")])
def test_bad_paging_is_refused(
    sqlite_session: Session, limit: int, offset: int, field: str
) -> None:
    """A zero limit or negative offset raises InvalidFieldError naming it."""
    with pytest.raises(InvalidFieldError) as caught:
        AdminDeadJobRepository(sqlite_session).list(limit=limit, offset=offset)
    assert caught.value.field == field


def test_naive_time_filter_is_refused(sqlite_session: Session) -> None:
    """A naive 'since' is ambiguous and raises InvalidFieldError."""
    naive = builders.at("2026-01-01T00:00:00+00:00").replace(tzinfo=None)
    with pytest.raises(InvalidFieldError, match=r"^since:"):
        AdminDeadJobRepository(sqlite_session).count(DeadJobFilter(since=naive))


def test_mark_replayed_stamps_and_counts(sqlite_session: Session) -> None:
    """Each replay sets replayed_at and increments replay_count; replayed filter sees it."""
    acme, _ = _populate(sqlite_session)
    repo = DeadJobRepository(sqlite_session, acme)
    job = repo.list(limit=1)[0]
    repo.mark_replayed(job.id)
    replayed = repo.mark_replayed(job.id)
    assert replayed.replay_count == 2
    assert replayed.replayed_at is not None
    assert [j.id for j in repo.list(DeadJobFilter(replayed=True))] == [job.id]
    assert repo.count(DeadJobFilter(replayed=False)) == 2


def test_purge_deletes_matching_jobs_and_returns_the_count(sqlite_session: Session) -> None:
    """purge() removes what the filter matches, and only that."""
    _populate(sqlite_session)
    admin = AdminDeadJobRepository(sqlite_session)
    assert admin.purge(DeadJobFilter(provider="hubspot")) == 3
    assert {job.job_id for job in admin.list()} == {"job-2", "job-4"}
    assert admin.purge() == 2
    assert admin.count() == 0


def test_org_repository_sees_and_purges_only_its_org(sqlite_session: Session) -> None:
    """An org's repository cannot read, replay or purge another org's dead jobs."""
    acme, globex = _populate(sqlite_session)
    repo = DeadJobRepository(sqlite_session, acme)
    theirs = DeadJobRepository(sqlite_session, globex).list()[0]
    assert {job.org_id for job in repo.list()} == {acme}
    assert repo.count(DeadJobFilter(org_id=globex)) == 0
    with pytest.raises(NotFoundError):
        repo.get(theirs.id)
    with pytest.raises(NotFoundError):
        repo.mark_replayed(theirs.id)
    assert repo.purge() == 3
    assert AdminDeadJobRepository(sqlite_session).count() == 2


def test_org_repository_refuses_another_orgs_job(sqlite_session: Session) -> None:
    """Adding a job of another org through an org's repository is refused."""
    acme = builders.org(sqlite_session, "acme").id
    with pytest.raises(InvalidFieldError, match=r"^org_id:"):
        DeadJobRepository(sqlite_session, acme).add(builders.failed_job("f" * 32))


@pytest.mark.parametrize(
    ("field", "value"), [("job_id", ""), ("kind", "k" * 17), ("provider", "p" * 65)]
)
def test_fields_wider_than_their_columns_are_refused(
    sqlite_session: Session, field: str, value: str
) -> None:
    """Over-long or blank fields are refused on SQLite too, as PostgreSQL would."""
    with pytest.raises(InvalidFieldError) as caught:
        AdminDeadJobRepository(sqlite_session).add(builders.failed_job("o" * 32, **{field: value}))
    assert caught.value.field == field


def test_admin_accepts_jobs_of_unknown_orgs(sqlite_session: Session) -> None:
    """The DLQ never loses a job because its org is gone: org_id is not a foreign key."""
    admin = AdminDeadJobRepository(sqlite_session)
    admin.add(builders.failed_job("f" * 32))
    sqlite_session.flush()
    assert admin.count(DeadJobFilter(org_id="f" * 32)) == 1


def test_missing_dead_job_raises_not_found(sqlite_session: Session) -> None:
    """get() of an unknown id raises NotFoundError."""
    with pytest.raises(NotFoundError, match="dead job"):
        AdminDeadJobRepository(sqlite_session).get("missing")
