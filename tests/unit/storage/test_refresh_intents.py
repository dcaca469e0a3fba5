"""Refresh intents: pending from the token request until its outcome is stored."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.repositories.refresh_intents import RefreshIntentRepository
from tests.unit.storage.builders import connection, org


def test_an_intent_is_interrupted_only_while_pending_at_the_current_version(
    sqlite_session: Session,
) -> None:
    """Pending at version 3 reads as interrupted at 3, not at 4; settled, not at all."""
    org_id = org(sqlite_session).id
    conn = connection(sqlite_session, org_id).id
    intents = RefreshIntentRepository(sqlite_session, org_id)
    assert intents.interrupted(conn, 3) is None
    intents.begin(conn, 3)
    found = intents.interrupted(conn, 3)
    assert found is not None and found.rotates is None
    assert intents.interrupted(conn, 4) is None
    intents.settle(conn, 3, rotated=False)
    assert intents.interrupted(conn, 3) is None
    intents.begin(conn, 4)  # what the last answer taught is kept
    again = intents.interrupted(conn, 4)
    assert again is not None and again.rotates is False


def test_settling_an_older_version_leaves_a_newer_intent_pending(sqlite_session: Session) -> None:
    """A late settle of version 3 does not unmark the intent of version 4."""
    org_id = org(sqlite_session).id
    conn = connection(sqlite_session, org_id).id
    intents = RefreshIntentRepository(sqlite_session, org_id)
    intents.begin(conn, 4)
    intents.settle(conn, 3)
    assert intents.interrupted(conn, 4) is not None


def test_intents_are_scoped_by_org(sqlite_session: Session) -> None:
    """Another org does not see this org's intent."""
    mine, theirs = org(sqlite_session).id, org(sqlite_session, "other").id
    conn = connection(sqlite_session, mine).id
    RefreshIntentRepository(sqlite_session, mine).begin(conn, 1)
    assert RefreshIntentRepository(sqlite_session, theirs).interrupted(conn, 1) is None
