"""Exactly one refresh per token: version fence (both backends), row lock (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.crypto import KeyRing, Secret
from storage.errors import StaleVersionError
from storage.repositories import CredentialRepository
from tests.unit.storage import builders

pytestmark = pytest.mark.integration


def _credential(factory: sessionmaker[Session], ring: KeyRing) -> tuple[str, str]:
    with factory.begin() as session:
        org_id = builders.org(session).id
        connection_id = builders.connection(session, org_id).id
        CredentialRepository(session, org_id, ring).store(
            connection_id, auth_mode="oauth2", access_token="at-1", refresh_token="rt-1"
        )
    return org_id, connection_id


def test_second_refresher_loses_and_reads_the_winners_tokens(
    db_session_factory: sessionmaker[Session],
) -> None:
    """Two workers refresh from version 1: the later write fails, the rotated token survives."""
    ring = builders.keyring()
    org_id, connection_id = _credential(db_session_factory, ring)
    with db_session_factory() as first, db_session_factory() as second:
        repo_first = CredentialRepository(first, org_id, ring)
        repo_second = CredentialRepository(second, org_id, ring)
        seen_first = repo_first.load(connection_id)
        seen_second = repo_second.load(connection_id)
        assert seen_first.version == seen_second.version == 1
        repo_first.update_tokens(
            connection_id, expected_version=1, access_token="at-A", refresh_token="rt-A"
        )
        first.commit()
        with pytest.raises(StaleVersionError):
            repo_second.update_tokens(
                connection_id, expected_version=1, access_token="at-B", refresh_token="rt-B"
            )
        winner = repo_second.load(connection_id)  # same session, no rollback needed
    assert (winner.version, winner.access_token, winner.refresh_token) == (
        2,
        Secret("at-A"),
        Secret("rt-A"),
    )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_row_lock_makes_the_second_refresher_wait_for_the_first(
    db_session_factory: sessionmaker[Session],
) -> None:
    """load_for_refresh blocks a second worker until the first commits, then shows its tokens."""
    ring = builders.keyring()
    org_id, connection_id = _credential(db_session_factory, ring)
    locked = threading.Event()
    committing_at: list[float] = []

    def first_worker() -> None:
        with db_session_factory() as session:
            repo = CredentialRepository(session, org_id, ring)
            current = repo.load_for_refresh(connection_id)
            locked.set()
            time.sleep(0.3)  # the provider call
            repo.update_tokens(
                connection_id,
                expected_version=current.version,
                access_token="at-A",
                refresh_token="rt-A",
            )
            committing_at.append(time.monotonic())
            session.commit()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert locked.wait(5)
    with db_session_factory() as session:
        seen = CredentialRepository(session, org_id, ring).load_for_refresh(connection_id)
        returned_at = time.monotonic()
        session.commit()
    thread.join(5)
    assert committing_at
    assert returned_at >= committing_at[0]  # it waited for the first worker's commit
    assert (seen.version, seen.refresh_token) == (2, Secret("rt-A"))
