"""ConnectionRepository: uniqueness per org, statuses, account lookup, org scoping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from storage.repositories import ConnectionRepository, find_connections_by_account
from tests.unit.storage import builders


def test_create_and_get_by_id_or_provider(sqlite_session: Session) -> None:
    """A connection is found by id and by (provider, name), with its JSON fields intact."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    created = repo.create(
        "shopify", account_identifier={"shop": "acme"}, config={"rate_limit": {"per_second": 2}}
    )
    sqlite_session.commit()
    sqlite_session.expire_all()
    found = repo.get_by_provider("shopify")
    assert found.id == created.id
    assert repo.get(created.id) is found
    assert (found.name, found.status) == ("default", "connected")
    assert found.account_identifier == {"shop": "acme"}
    assert found.config == {"rate_limit": {"per_second": 2}}
    assert found.created_at.tzinfo is not None


def test_same_provider_and_name_twice_is_a_conflict(sqlite_session: Session) -> None:
    """(provider, name) is unique within an org; another name is fine."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    repo.create("hubspot")
    repo.create("hubspot", name="eu-portal")
    with pytest.raises(ConflictError, match="hubspot/default"):
        repo.create("hubspot")


def test_two_orgs_may_connect_the_same_provider(sqlite_session: Session) -> None:
    """Uniqueness is per org, not global."""
    for name in ("acme", "globex"):
        org = builders.org(sqlite_session, name)
        ConnectionRepository(sqlite_session, org.id).create("hubspot")
    sqlite_session.flush()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("provider", {"provider": "Hub Spot"}),
        ("provider", {"provider": ""}),
        ("name", {"provider": "hubspot", "name": "has space"}),
        ("status", {"provider": "hubspot", "status": "broken"}),
    ],
)
def test_invalid_fields_are_named(
    sqlite_session: Session, field: str, kwargs: dict[str, Any]
) -> None:
    """Malformed provider, name or status raise InvalidFieldError naming the field."""
    org = builders.org(sqlite_session)
    provider = kwargs.pop("provider")
    with pytest.raises(InvalidFieldError) as caught:
        ConnectionRepository(sqlite_session, org.id).create(provider, **kwargs)
    assert caught.value.field == field


def test_set_status_keeps_the_error_message_only_for_errors(sqlite_session: Session) -> None:
    """An error status records its reason; going back to connected clears it."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    connection = repo.create("hubspot")
    repo.set_status(connection.id, "error", error_message="invalid_grant")
    assert (connection.status, connection.error_message) == ("error", "invalid_grant")
    repo.set_status(connection.id, "connected")
    assert (connection.status, connection.error_message) == ("connected", None)


def test_error_status_requires_a_reason(sqlite_session: Session) -> None:
    """Setting 'error' without a message is refused: operators need the reason."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    connection = repo.create("hubspot")
    with pytest.raises(InvalidFieldError, match=r"^error_message:"):
        repo.set_status(connection.id, "error")
    with pytest.raises(InvalidFieldError, match=r"^status:"):
        repo.set_status(connection.id, "paused")


def test_update_and_mark_synced(sqlite_session: Session) -> None:
    """update() replaces only what is given; mark_synced() stamps the time and updated_at."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    connection = repo.create("shopify", account_identifier={"shop": "old"}, config={"a": 1})
    created_updated_at = connection.updated_at
    repo.update(connection.id, account_identifier={"shop": "new"})
    assert connection.account_identifier == {"shop": "new"}
    assert connection.config == {"a": 1}
    synced = repo.mark_synced(connection.id, builders.at("2026-01-01T00:00:00+00:00"))
    assert synced.last_synced_at == builders.at("2026-01-01T00:00:00+00:00")
    assert synced.updated_at >= created_updated_at


def test_list_filters_by_provider(sqlite_session: Session) -> None:
    """list() returns the org's connections, optionally for one provider."""
    org = builders.org(sqlite_session)
    repo = ConnectionRepository(sqlite_session, org.id)
    repo.create("slack")
    repo.create("hubspot")
    repo.create("hubspot", name="second")
    assert [(c.provider, c.name) for c in repo.list()] == [
        ("hubspot", "default"),
        ("hubspot", "second"),
        ("slack", "default"),
    ]
    assert len(repo.list(provider="slack")) == 1


def test_another_orgs_connection_is_invisible(sqlite_session: Session) -> None:
    """A repository for org B cannot read, change or delete org A's connection."""
    acme = builders.org(sqlite_session, "acme")
    globex = builders.org(sqlite_session, "globex")
    theirs = builders.connection(sqlite_session, acme.id, "hubspot")
    mine = ConnectionRepository(sqlite_session, globex.id)
    with pytest.raises(NotFoundError):
        mine.get(theirs.id)
    with pytest.raises(NotFoundError):
        mine.get_by_provider("hubspot")
    with pytest.raises(NotFoundError):
        mine.set_status(theirs.id, "disconnected")
    with pytest.raises(NotFoundError):
        mine.update(theirs.id, config={"x": 1})
    with pytest.raises(NotFoundError):
        mine.delete(theirs.id)
    assert mine.list() == []
    assert theirs.status == "connected"


def test_find_by_account_identifier_crosses_orgs(sqlite_session: Session) -> None:
    """Inbound routing finds the connection holding an account id, whichever org owns it."""
    acme = builders.org(sqlite_session, "acme")
    globex = builders.org(sqlite_session, "globex")
    a = builders.connection(sqlite_session, acme.id, "shopify", account_identifier={"shop": "a"})
    builders.connection(sqlite_session, globex.id, "shopify", account_identifier={"shop": "g"})
    assert find_connections_by_account(sqlite_session, "shopify", {"shop": "a"}) == [a]
    assert find_connections_by_account(sqlite_session, "shopify", {"shop": "zzz"}) == []
    assert find_connections_by_account(sqlite_session, "hubspot", {"shop": "a"}) == []
    with pytest.raises(InvalidFieldError):
        find_connections_by_account(sqlite_session, "shopify", {})
