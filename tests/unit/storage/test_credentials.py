"""CredentialRepository: encryption at rest, version fencing, rotation, org scoping."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.crypto import DecryptionError, KeyRing, Secret, generate_key_item
from storage.errors import InvalidFieldError, NotFoundError, StaleVersionError
from storage.models import Credential
from storage.repositories import CredentialRepository, reencrypt_credentials
from tests.unit.storage import builders

EXPIRY = "2026-06-01T12:00:00+00:00"


def _stored(session: Session, ring: KeyRing) -> tuple[CredentialRepository, str]:
    org = builders.org(session)
    connection = builders.connection(session, org.id)
    repo = CredentialRepository(session, org.id, ring)
    repo.store(
        connection.id,
        auth_mode="oauth2",
        access_token="at-1",
        refresh_token=Secret("rt-1"),
        expires_at=builders.at(EXPIRY),
        scopes=["crm.read", "crm.write"],
        extra={"instance_url": "https://x"},
    )
    return repo, connection.id


def test_store_then_load_returns_secrets(sqlite_session: Session) -> None:
    """Stored values come back as Secrets with the same plaintext, plus the plain fields."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    sqlite_session.commit()
    sqlite_session.expire_all()
    loaded = repo.load(connection_id)
    assert loaded.access_token == Secret("at-1")
    assert loaded.refresh_token == Secret("rt-1")
    assert (loaded.api_key, loaded.secret) == (None, None)
    assert loaded.expires_at == builders.at(EXPIRY)
    assert loaded.scopes == ("crm.read", "crm.write")
    assert loaded.extra == {"instance_url": "https://x"}
    assert (loaded.auth_mode, loaded.version) == ("oauth2", 1)


def test_database_holds_only_ciphertext(sqlite_session: Session) -> None:
    """The row's secret columns are v1 ciphertexts; no plaintext is stored or printed."""
    repo, connection_id = _stored(sqlite_session, builders.keyring("k1"))
    row = sqlite_session.scalars(select(Credential)).one()
    assert row.encrypted_access_token is not None
    assert row.encrypted_access_token.startswith("v1:k1:")
    assert "at-1" not in row.encrypted_access_token
    assert "at-1" not in repr(row)
    assert row.encrypted_access_token not in repr(row)
    assert "at-1" not in repr(repo.load(connection_id))


def test_ciphertext_copied_to_another_row_does_not_decrypt(sqlite_session: Session) -> None:
    """Associated data binds a ciphertext to its connection: swapping rows fails loudly."""
    ring = builders.keyring()
    repo, first_id = _stored(sqlite_session, ring)
    second = builders.connection(sqlite_session, repo.org_id, "slack")
    repo.store(second.id, auth_mode="oauth2", access_token="other")
    stolen = sqlite_session.scalars(
        select(Credential.encrypted_access_token).where(Credential.connection_id == first_id)
    ).one()
    sqlite_session.execute(
        update(Credential)
        .where(Credential.connection_id == second.id)
        .values(encrypted_access_token=stolen)
    )
    sqlite_session.expire_all()
    with pytest.raises(DecryptionError):
        repo.load(second.id)


def test_storing_again_replaces_and_bumps_the_version(sqlite_session: Session) -> None:
    """store() on an existing credential replaces every field and increments version."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    replaced = repo.store(connection_id, auth_mode="api_key", api_key="key-2")
    assert replaced.version == 2
    assert replaced.api_key == Secret("key-2")
    assert replaced.access_token is None
    assert replaced.scopes == ()


def test_update_tokens_with_the_current_version_wins(sqlite_session: Session) -> None:
    """A refresh at the version it read writes the new pair and bumps the version."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    refreshed = repo.update_tokens(
        connection_id,
        expected_version=1,
        access_token="at-2",
        refresh_token="rt-2",
        expires_at=builders.at("2026-06-01T13:00:00+00:00"),
    )
    assert (refreshed.version, refreshed.access_token, refreshed.refresh_token) == (
        2,
        Secret("at-2"),
        Secret("rt-2"),
    )
    assert repo.load(connection_id) == refreshed


def test_update_tokens_without_refresh_token_keeps_it(sqlite_session: Session) -> None:
    """Providers that do not rotate refresh tokens keep the stored one."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    refreshed = repo.update_tokens(connection_id, expected_version=1, access_token="at-2")
    assert refreshed.refresh_token == Secret("rt-1")
    assert refreshed.scopes == ("crm.read", "crm.write")


def test_update_tokens_at_a_stale_version_loses(sqlite_session: Session) -> None:
    """A refresher holding an old version gets StaleVersionError and changes nothing."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    repo.update_tokens(connection_id, expected_version=1, access_token="winner")
    with pytest.raises(StaleVersionError) as caught:
        repo.update_tokens(connection_id, expected_version=1, access_token="loser")
    assert caught.value.field == "version"
    assert repo.load(connection_id).access_token == Secret("winner")


def test_naive_expiry_and_single_string_scopes_are_refused(sqlite_session: Session) -> None:
    """A naive expires_at or scopes given as one string raise InvalidFieldError."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    naive = builders.at(EXPIRY).replace(tzinfo=None)
    with pytest.raises(InvalidFieldError, match=r"^expires_at:"):
        repo.store(connection_id, auth_mode="oauth2", expires_at=naive)
    with pytest.raises(InvalidFieldError, match=r"^scopes:"):
        repo.store(connection_id, auth_mode="oauth2", scopes="crm.read")


def test_reencrypt_moves_every_secret_to_the_new_primary(sqlite_session: Session) -> None:
    """After adding a key, reencrypt rewrites old ciphertexts; the old key can then go."""
    old_item = generate_key_item("old")
    repo, connection_id = _stored(sqlite_session, KeyRing([old_item]))
    new_item = generate_key_item("new")
    both = KeyRing([new_item, old_item])
    assert reencrypt_credentials(sqlite_session, both) == 1
    assert reencrypt_credentials(sqlite_session, both) == 0
    row = sqlite_session.scalars(select(Credential)).one()
    assert row.encrypted_access_token is not None
    assert row.encrypted_access_token.startswith("v1:new:")
    assert row.version == 1
    only_new = CredentialRepository(sqlite_session, repo.org_id, KeyRing([new_item]))
    assert only_new.load(connection_id).refresh_token == Secret("rt-1")


def test_org_reencrypt_touches_only_that_org(sqlite_session: Session) -> None:
    """CredentialRepository.reencrypt() leaves other orgs' credentials alone."""
    old_item = generate_key_item("old")
    old = KeyRing([old_item])
    _, _ = _stored(sqlite_session, old)
    globex = builders.org(sqlite_session, "globex")
    other = builders.connection(sqlite_session, globex.id)
    CredentialRepository(sqlite_session, globex.id, old).store(
        other.id, auth_mode="api_key", api_key="k"
    )
    both = KeyRing([generate_key_item("new"), old_item])
    assert CredentialRepository(sqlite_session, globex.id, both).reencrypt() == 1
    assert reencrypt_credentials(sqlite_session, both) == 1


def test_another_orgs_credential_is_invisible(sqlite_session: Session) -> None:
    """A repository for org B cannot load, overwrite, refresh or delete org A's credential."""
    ring = builders.keyring()
    repo_a, connection_id = _stored(sqlite_session, ring)
    globex = builders.org(sqlite_session, "globex")
    repo_b = CredentialRepository(sqlite_session, globex.id, ring)
    with pytest.raises(NotFoundError):
        repo_b.load(connection_id)
    with pytest.raises(NotFoundError):
        repo_b.load_for_refresh(connection_id)
    with pytest.raises(NotFoundError):
        repo_b.store(connection_id, auth_mode="oauth2", access_token="evil")
    with pytest.raises(NotFoundError):
        repo_b.update_tokens(connection_id, expected_version=1, access_token="evil")
    with pytest.raises(NotFoundError):
        repo_b.delete(connection_id)
    assert repo_a.load(connection_id).access_token == Secret("at-1")


def test_delete_forgets_the_credential(sqlite_session: Session) -> None:
    """After delete() the credential is gone."""
    repo, connection_id = _stored(sqlite_session, builders.keyring())
    repo.delete(connection_id)
    with pytest.raises(NotFoundError, match="credential"):
        repo.load(connection_id)
