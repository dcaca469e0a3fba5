"""`keys rotate`: every secret moves to the newest key, resumably, while refreshes go on."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.crypto import KeyRing, generate_key_item
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.repositories.credentials import CredentialRepository
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from storage.rotation import RotationReport, rotate_all
from tests.conftest_storage import _admin_connect, _postgres_server_url
from tests.unit.storage import builders

OLD, NEW = generate_key_item("old"), generate_key_item("new")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A private, migrated database (rotation is operator-wide: no other test's rows)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rotate.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()
        return
    request.getfixturevalue("pg_url")  # skips (or fails in CI) when PostgreSQL is down
    name = f"switchyard_rotate_{uuid.uuid4().hex[:10]}"
    with _admin_connect() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(_postgres_server_url()).set(database=name).render_as_string(False)
    try:
        upgrade(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()
    finally:
        with _admin_connect() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def seed(sessions: sessionmaker[Session], count: int) -> list[tuple[str, str]]:
    """``count`` credentials under the old key, as (org id, connection id)."""
    ring, made = KeyRing([OLD]), []
    with sessions.begin() as session:
        org_id = builders.org(session).id
        for i in range(count):
            connection_id = builders.connection(session, org_id, provider=f"p{i}").id
            CredentialRepository(session, org_id, ring).store(
                connection_id,
                auth_mode="oauth2_code",
                access_token=f"at-{i}",
                refresh_token=f"rt-{i}",
            )
            made.append((org_id, connection_id))
    return made


def readable_with(
    sessions: sessionmaker[Session], ring: KeyRing, made: list[tuple[str, str]]
) -> list[str]:
    with sessions() as session:
        return [
            str(CredentialRepository(session, org, ring).load(conn).access_token.reveal())  # type: ignore[union-attr]
            for org, conn in made
        ]


def test_rotation_moves_every_secret_to_the_newest_key(sessions: sessionmaker[Session]) -> None:
    """After a rotation a ring holding only the new key decrypts everything; pending is 0."""
    made = seed(sessions, 5)
    report, hooks = rotate_all(sessions, KeyRing([NEW, OLD]), batch_size=2)
    assert (report.changed, report.batches, report.pending) == (5, 3, 0)
    assert (hooks.target, hooks.changed) == ("webhook_secrets", 0)
    assert readable_with(sessions, KeyRing([NEW]), made) == [f"at-{i}" for i in range(5)]


def test_interrupted_rotation_resumes_after_the_last_committed_batch(
    sessions: sessionmaker[Session],
) -> None:
    """A run dying after its second batch resumes from its cursor and finishes the rest."""
    made = seed(sessions, 7)
    ring = KeyRing([NEW, OLD])

    def die_after_two(report: RotationReport) -> None:
        if report.batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_all(sessions, ring, batch_size=2, on_batch=die_after_two)
    report, _ = rotate_all(sessions, ring, batch_size=2)
    assert report.resumed_after is not None
    assert report.changed == 3 and report.pending == 0
    assert readable_with(sessions, KeyRing([NEW]), made) == [f"at-{i}" for i in range(7)]


def test_rotation_while_refreshes_run_keeps_the_refreshed_tokens(
    sessions: sessionmaker[Session],
) -> None:
    """Refreshes racing a rotation win: no refreshed token is overwritten, all end readable."""
    made = seed(sessions, 20)
    ring = KeyRing([NEW, OLD])
    done = threading.Event()

    def refresh_loop() -> None:
        round_ = 0
        while not done.is_set() and round_ < 5:
            round_ += 1
            for org, conn in made[::2]:
                with sessions.begin() as session:
                    repo = CredentialRepository(session, org, ring)
                    current = repo.load(conn)
                    repo.update_tokens(
                        conn, expected_version=current.version, access_token=f"new-{conn}-{round_}"
                    )

    worker = threading.Thread(target=refresh_loop)
    worker.start()
    try:
        rotate_all(sessions, ring, batch_size=1)
    finally:
        done.set()
        worker.join()
    report, _ = rotate_all(sessions, ring, batch_size=5)
    assert report.pending == 0
    tokens = readable_with(sessions, KeyRing([NEW]), made)
    assert all(t.startswith("new-") for t in tokens[::2])
    assert tokens[1::2] == [f"at-{i}" for i in range(1, 20, 2)]


def test_cli_rotates_and_refuses_a_ring_missing_an_old_key(clean_env: Path) -> None:
    """`keys rotate` reports what it did; a ring lacking a key in use exits 2 naming it."""
    from typer.testing import CliRunner

    from switchyard.cli import _register, app

    url = f"sqlite:///{clean_env / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed(make_session_factory(engine), 3)
    engine.dispose()
    _register()
    env = {"SWITCHYARD_DATABASE_URL": url, "SWITCHYARD_DATA_DIR": str(clean_env)}
    missing = CliRunner().invoke(
        app, ["keys", "rotate"], env={**env, "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": NEW}
    )
    assert missing.exit_code == 2 and "'old'" in missing.output
    done = CliRunner().invoke(
        app, ["keys", "rotate"], env={**env, "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": f"{NEW},{OLD}"}
    )
    assert done.exit_code == 0, done.output
    assert (
        "credentials: 3 re-encrypted to new in 1 batches; 0 still under older keys" in done.output
    )


def test_rotation_covers_webhook_signing_secrets(sessions: sessionmaker[Session]) -> None:
    """Endpoint secrets move to the newest key too and still sign with the same value."""
    old = KeyRing([OLD])
    with sessions.begin() as session:
        org_id = builders.org(session).id
        issued = [
            WebhookEndpointRepository(session, org_id, old).create(f"https://h{i}.example.com/")
            for i in range(3)
        ]
        ids = [(e.endpoint.id, e.secret.reveal()) for e in issued]
    reports = {r.target: r for r in rotate_all(sessions, KeyRing([NEW, OLD]), batch_size=2)}
    assert (reports["webhook_secrets"].changed, reports["webhook_secrets"].pending) == (3, 0)
    with sessions() as session:
        repo = WebhookEndpointRepository(session, org_id, KeyRing([NEW]))
        now = datetime.now(UTC)
        for endpoint_id, secret in ids:
            signing = repo.signing_secrets(repo.get(endpoint_id), now)
            assert [s.reveal() for s in signing] == [secret]
