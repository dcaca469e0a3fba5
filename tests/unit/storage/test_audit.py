"""Audit repositories: append, read newest first, org scoping."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError
from storage.repositories import AdminAuditRepository, AuditRepository
from tests.unit.storage import builders


def test_record_and_list_newest_first(sqlite_session: Session) -> None:
    """Events come back newest first with their details."""
    org = builders.org(sqlite_session)
    repo = AuditRepository(sqlite_session, org.id)
    repo.record("cli", "dlq.replayed", subject_type="dead_job", subject_id="d1", details={"n": 1})
    repo.record("api-key:k1", "dlq.purged", details={"count": 4})
    events = repo.list()
    assert [event.action for event in events] == ["dlq.purged", "dlq.replayed"]
    assert events[1].details == {"n": 1}
    assert (events[1].subject_type, events[1].subject_id) == ("dead_job", "d1")
    assert events[0].created_at.tzinfo is not None
    assert [event.action for event in repo.list(action="dlq.replayed")] == ["dlq.replayed"]


def test_org_trail_excludes_other_orgs_and_operator_events(sqlite_session: Session) -> None:
    """An org's trail shows only its events; the admin trail shows all, or one org's."""
    acme = builders.org(sqlite_session, "acme").id
    globex = builders.org(sqlite_session, "globex").id
    AuditRepository(sqlite_session, acme).record("cli", "connection.created")
    AuditRepository(sqlite_session, globex).record("cli", "connection.created")
    admin = AdminAuditRepository(sqlite_session)
    admin.record("cli", "keys.rotated")
    assert [e.org_id for e in AuditRepository(sqlite_session, acme).list()] == [acme]
    assert len(admin.list()) == 3
    assert [e.org_id for e in admin.list(org_id=globex)] == [globex]
    assert admin.list(action="keys.rotated")[0].org_id is None


def test_since_bounds_the_listing(sqlite_session: Session) -> None:
    """since= drops older events."""
    admin = AdminAuditRepository(sqlite_session)
    admin.record("cli", "old")
    assert admin.list(since=builders.at("2999-01-01T00:00:00+00:00")) == []


@pytest.mark.parametrize(("actor", "action", "field"), [("", "x", "actor"), ("cli", " ", "action")])
def test_blank_actor_or_action_is_refused(
    sqlite_session: Session, actor: str, action: str, field: str
) -> None:
    """Every event says who did what."""
    with pytest.raises(InvalidFieldError) as caught:
        AdminAuditRepository(sqlite_session).record(actor, action)
    assert caught.value.field == field
