"""ApiKeyRepository: one-time plaintext, lookup by hash, revocation, nothing leaked."""

from __future__ import annotations

import hashlib
from dataclasses import fields

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import InvalidFieldError, NotFoundError
from storage.models import ApiKey
from storage.repositories import ApiKeyInfo, ApiKeyRepository
from tests.unit.storage import builders


def test_create_returns_plaintext_once_and_stores_only_its_hash(sqlite_session: Session) -> None:
    """The plaintext key is returned as a Secret; the row holds its SHA-256 and a prefix."""
    org = builders.org(sqlite_session)
    issued = ApiKeyRepository(sqlite_session).create(org.id, "ci")
    plaintext = issued.key.reveal()
    row = issued.api_key
    assert plaintext.startswith("sy_")
    assert len(plaintext) > 40
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext.startswith(row.prefix)
    assert len(row.prefix) < len(plaintext) // 3
    assert (row.scope, row.org_id) == ("org", org.id)
    stored = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
    assert plaintext not in stored
    assert plaintext not in repr(issued)


def test_keys_are_unique(sqlite_session: Session) -> None:
    """Two keys issued in a row differ."""
    repo = ApiKeyRepository(sqlite_session)
    assert repo.create(None, "a").key != repo.create(None, "b").key


def test_admin_key_has_no_org(sqlite_session: Session) -> None:
    """create(None, ...) issues an admin-scope key."""
    row = ApiKeyRepository(sqlite_session).create(None, "operator").api_key
    assert (row.scope, row.org_id) == ("admin", None)


def test_key_for_unknown_org_is_refused(sqlite_session: Session) -> None:
    """A key cannot be issued for an org that does not exist."""
    with pytest.raises(NotFoundError, match="organization"):
        ApiKeyRepository(sqlite_session).create("0" * 32, "ci")


def test_blank_name_is_refused(sqlite_session: Session) -> None:
    """Key names are required: an operator must be able to tell keys apart."""
    with pytest.raises(InvalidFieldError, match=r"^name:"):
        ApiKeyRepository(sqlite_session).create(None, "  ")


def test_authenticate_finds_the_key_and_records_use(sqlite_session: Session) -> None:
    """The right plaintext authenticates and sets last_used_at."""
    repo = ApiKeyRepository(sqlite_session)
    issued = repo.create(None, "operator")
    found = repo.authenticate(issued.key.reveal())
    assert found is issued.api_key
    assert found.last_used_at is not None


@pytest.mark.parametrize("attempt", ["", "sy_", "sy_wrong", "not-a-key", "sy_" + "x" * 300])
def test_authenticate_rejects_unknown_keys(sqlite_session: Session, attempt: str) -> None:
    """Anything but an issued key authenticates as None."""
    repo = ApiKeyRepository(sqlite_session)
    repo.create(None, "operator")
    assert repo.authenticate(attempt) is None


def test_revoked_keys_no_longer_authenticate(sqlite_session: Session) -> None:
    """After revoke() the key is refused; revoking again keeps the first time."""
    repo = ApiKeyRepository(sqlite_session)
    issued = repo.create(None, "operator")
    first = repo.revoke(issued.api_key.id)
    assert first.revoked_at is not None
    assert repo.authenticate(issued.key.reveal()) is None
    assert repo.revoke(issued.api_key.id).revoked_at == first.revoked_at


def test_revoke_unknown_key_raises_not_found(sqlite_session: Session) -> None:
    """Revoking a key that does not exist is an error, not a silent success."""
    with pytest.raises(NotFoundError, match="api key"):
        ApiKeyRepository(sqlite_session).revoke("missing")


def test_list_exposes_no_hash_and_hides_revoked_by_default(sqlite_session: Session) -> None:
    """Listings carry no hash; revoked keys appear only when asked for."""
    org = builders.org(sqlite_session)
    repo = ApiKeyRepository(sqlite_session)
    kept = repo.create(org.id, "kept").api_key
    gone = repo.create(org.id, "gone").api_key
    admin = repo.create(None, "admin").api_key
    repo.revoke(gone.id)
    assert "key_hash" not in {field.name for field in fields(ApiKeyInfo)}
    assert {info.id for info in repo.list()} == {kept.id, admin.id}
    assert {info.id for info in repo.list(org_id=org.id)} == {kept.id}
    assert {info.id for info in repo.list(org_id=org.id, include_revoked=True)} == {
        kept.id,
        gone.id,
    }
    assert all(info.active == (info.id != gone.id) for info in repo.list(include_revoked=True))


def test_row_repr_hides_the_hash(sqlite_session: Session) -> None:
    """Printing a key row does not print its hash."""
    row = ApiKeyRepository(sqlite_session).create(None, "operator").api_key
    assert row.key_hash not in repr(row)


def test_scope_must_match_org_in_the_database(sqlite_session: Session) -> None:
    """The check constraint refuses an admin key bound to an org."""
    org = builders.org(sqlite_session)
    sqlite_session.add(ApiKey(org_id=org.id, scope="admin", name="x", prefix="p", key_hash="h"))
    with pytest.raises(IntegrityError, match="scope_matches_org"):
        sqlite_session.flush()
