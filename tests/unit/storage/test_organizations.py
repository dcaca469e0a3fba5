"""OrganizationRepository: names, uniqueness, lookup and weights."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from storage.repositories import OrganizationRepository


def test_create_then_find_by_id_name_or_either(sqlite_session: Session) -> None:
    """A created org is found by id, by name, and by resolve() given either."""
    repo = OrganizationRepository(sqlite_session)
    org = repo.create("acme-corp", weight=3)
    assert len(org.id) == 32
    assert org.weight == 3
    assert org.created_at.tzinfo is not None
    assert repo.get(org.id) is org
    assert repo.get_by_name("acme-corp") is org
    assert repo.resolve("acme-corp") is org
    assert repo.resolve(org.id) is org


def test_weight_defaults_to_one(sqlite_session: Session) -> None:
    """Without a weight an org gets an equal share."""
    assert OrganizationRepository(sqlite_session).create("acme").weight == 1


@pytest.mark.parametrize("name", ["a", "Acme", "-acme", "acme_corp", "acme corp", "a" * 64, ""])
def test_invalid_names_are_rejected_naming_the_field(sqlite_session: Session, name: str) -> None:
    """Names must be lowercase slugs of 2-63 characters; the error names 'name'."""
    with pytest.raises(InvalidFieldError) as caught:
        OrganizationRepository(sqlite_session).create(name)
    assert caught.value.field == "name"
    assert str(caught.value).startswith("name:")


def test_duplicate_name_is_a_conflict(sqlite_session: Session) -> None:
    """A second org with the same name raises ConflictError naming the name."""
    repo = OrganizationRepository(sqlite_session)
    repo.create("acme")
    with pytest.raises(ConflictError, match="name 'acme' already exists"):
        repo.create("acme")


@pytest.mark.parametrize("lookup", ["get", "get_by_name", "resolve"])
def test_missing_org_raises_not_found(sqlite_session: Session, lookup: str) -> None:
    """Looking up an org that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError, match="organization 'nope' not found"):
        getattr(OrganizationRepository(sqlite_session), lookup)("nope")


def test_list_is_sorted_by_name(sqlite_session: Session) -> None:
    """list() returns every org in name order."""
    repo = OrganizationRepository(sqlite_session)
    for name in ("zeta", "alpha", "mid"):
        repo.create(name)
    assert [org.name for org in repo.list()] == ["alpha", "mid", "zeta"]


def test_set_weight_changes_the_share(sqlite_session: Session) -> None:
    """set_weight stores the new weight."""
    repo = OrganizationRepository(sqlite_session)
    org = repo.create("acme")
    repo.set_weight(org.id, 5)
    sqlite_session.commit()
    sqlite_session.expire_all()
    assert repo.get(org.id).weight == 5


@pytest.mark.parametrize("weight", [0, -1, 1001, True])
def test_invalid_weights_are_rejected(sqlite_session: Session, weight: int) -> None:
    """Weights outside 1..1000 raise InvalidFieldError naming 'weight'."""
    repo = OrganizationRepository(sqlite_session)
    org = repo.create("acme")
    with pytest.raises(InvalidFieldError) as caught:
        repo.set_weight(org.id, weight)
    assert caught.value.field == "weight"
    with pytest.raises(InvalidFieldError):
        repo.create("other", weight=weight)
