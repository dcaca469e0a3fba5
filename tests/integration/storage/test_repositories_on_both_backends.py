"""Repository behaviour that depends on the backend: constraints, JSON, time, cascades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.crypto import Secret
from storage.errors import ConflictError, NotFoundError
from storage.models import ApiKey, Connection, Credential, Record
from storage.repositories import (
    AdminDeadJobRepository,
    ApiKeyRepository,
    AuditRepository,
    ConnectionRepository,
    CredentialRepository,
    DeadJobFilter,
    DeadJobRepository,
    OrganizationRepository,
    find_connections_by_account,
)
from storage.repositories.records import RecordRepository, RecordRow
from tests.unit.storage import builders

pytestmark = pytest.mark.integration


def test_duplicate_that_slips_past_the_check_is_still_a_conflict(
    db_session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a concurrent writer commits after our duplicate check, the unique index still wins."""
    with db_session_factory() as first:
        org_id = builders.org(first, "acme").id
        builders.connection(first, org_id, "hubspot")
        first.commit()
    # Make the pre-checks miss the committed rows, as they would in a race.
    monkeypatch.setattr(OrganizationRepository, "_find_by_name", lambda self, name: None)
    monkeypatch.setattr(ConnectionRepository, "_find", lambda self, provider, name: None)
    with db_session_factory() as second:
        with pytest.raises(ConflictError, match="name 'acme'"):
            OrganizationRepository(second).create("acme")
        second.rollback()
        with pytest.raises(ConflictError, match="'hubspot/default'"):
            ConnectionRepository(second, org_id).create("hubspot")


def test_check_constraints_hold(session: Session) -> None:
    """Status and API key scope are enforced by the database itself."""
    session.add(ApiKey(org_id=None, scope="org", name="x", prefix="p", key_hash="h"))
    with pytest.raises(IntegrityError, match="ck_api_keys_scope_matches_org"):
        session.flush()
    session.rollback()
    org = builders.org(session)
    session.add(Connection(org_id=org.id, provider="hubspot", status="weird"))
    with pytest.raises(IntegrityError, match="ck_connections_status_known"):
        session.flush()


def test_deleting_an_org_cascades_to_its_data(session: Session) -> None:
    """Connections, credentials and keys go with their org; the DLQ and audit trail stay."""
    ring = builders.keyring()
    org = builders.org(session)
    connection = builders.connection(session, org.id)
    CredentialRepository(session, org.id, ring).store(
        connection.id, auth_mode="oauth2", access_token="t"
    )
    ApiKeyRepository(session).create(org.id, "ci")
    DeadJobRepository(session, org.id).add(builders.failed_job(org.id))
    AuditRepository(session, org.id).record("cli", "org.deleted")
    session.commit()
    session.delete(org)
    session.commit()
    session.expunge_all()
    assert session.scalars(select(Connection)).all() == []
    assert session.scalars(select(Credential)).all() == []
    assert session.scalars(select(ApiKey)).all() == []
    assert AdminDeadJobRepository(session).count() == 1
    assert len(AuditRepository(session, org.id).list()) == 1


def test_records_belong_to_their_connections_org_and_go_with_it(session: Session) -> None:
    """One (connection, org) foreign key: no record under another org's connection, and a
    deleted org takes its connections' records along."""
    org, other = builders.org(session, "acme"), builders.org(session, "globex")
    connection = builders.connection(session, org.id)
    session.commit()
    now = datetime.now(UTC)
    row = RecordRow("1", {"id": "1"}, "h1")
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        RecordRepository(session, other.id).upsert_page(
            connection.id, "contacts", [row], run_id="r", now=now, touch_unchanged=True
        )
    session.rollback()
    RecordRepository(session, org.id).upsert_page(
        connection.id, "contacts", [row], run_id="r", now=now, touch_unchanged=True
    )
    session.commit()
    session.delete(org)
    session.commit()
    assert session.scalars(select(Record)).all() == []


def test_timestamps_round_trip_as_aware_utc(session: Session) -> None:
    """An aware time in any zone comes back as the same instant in UTC."""
    org = builders.org(session)
    local = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    connection = ConnectionRepository(session, org.id).create("hubspot")
    ConnectionRepository(session, org.id).mark_synced(connection.id, local)
    session.commit()
    session.expire_all()
    loaded = ConnectionRepository(session, org.id).get(connection.id)
    assert loaded.last_synced_at == local
    assert loaded.last_synced_at is not None
    assert loaded.last_synced_at.utcoffset() == timedelta(0)
    assert loaded.last_synced_at.tzinfo is UTC
    assert loaded.created_at.tzinfo is UTC


def test_account_lookup_and_json_fields(session: Session) -> None:
    """JSON fields round-trip, and inbound routing finds a connection by account id."""
    acme = builders.org(session, "acme")
    globex = builders.org(session, "globex")
    wanted = builders.connection(
        session, acme.id, "shopify", account_identifier={"shop": "acme"}, config={"burst": 4}
    )
    builders.connection(session, globex.id, "shopify", account_identifier={"shop": "globex"})
    session.commit()
    session.expire_all()
    found = find_connections_by_account(session, "shopify", {"shop": "acme"})
    assert [c.id for c in found] == [wanted.id]
    assert found[0].config == {"burst": 4}


def test_dead_job_time_filters(session: Session) -> None:
    """since/until compare instants correctly on the backend's own timestamp type."""
    org = builders.org(session)
    repo = DeadJobRepository(session, org.id)
    for n, hour in enumerate((1, 2, 3)):
        repo.add(
            builders.failed_job(org.id, job_id=f"j{n}"),
            dead_at=datetime(2026, 1, 1, hour, tzinfo=UTC),
        )
    session.commit()
    window = DeadJobFilter(
        since=datetime(2026, 1, 1, 3, 0, tzinfo=timezone(timedelta(hours=1))),  # 02:00 UTC
        until=datetime(2026, 1, 1, 3, tzinfo=UTC),
    )
    assert [job.job_id for job in repo.list(window)] == ["j1"]
    assert repo.purge(window) == 1
    assert repo.count() == 2


def test_org_scoping_holds_on_every_org_repository(session: Session) -> None:
    """Repositories built for org B see none of org A's rows, on this backend."""
    ring = builders.keyring()
    acme = builders.org(session, "acme").id
    globex = builders.org(session, "globex").id
    connection = builders.connection(session, acme, "hubspot")
    CredentialRepository(session, acme, ring).store(
        connection.id, auth_mode="oauth2", access_token="t"
    )
    dead = DeadJobRepository(session, acme).add(builders.failed_job(acme))
    AuditRepository(session, acme).record("cli", "x")
    session.commit()

    with pytest.raises(NotFoundError):
        ConnectionRepository(session, globex).get(connection.id)
    with pytest.raises(NotFoundError):
        CredentialRepository(session, globex, ring).load(connection.id)
    with pytest.raises(NotFoundError):
        DeadJobRepository(session, globex).get(dead.id)
    assert ConnectionRepository(session, globex).list() == []
    assert DeadJobRepository(session, globex).purge() == 0
    assert AuditRepository(session, globex).list() == []
    assert CredentialRepository(session, acme, ring).load(connection.id).access_token == Secret("t")
