"""Sync benchmarks on real PostgreSQL (and Redis for the full sync), loopback only.

(a) upsert throughput: ``BENCH_UPSERT_ROWS`` records (100k by default) written as a sync
    writes them — pages of each size in ``BENCH_UPSERT_PAGES`` (100,500,1000) through
    ``RecordRepository.upsert_page``,
    one transaction per page — against a raw ``COPY`` of the same rows into an unindexed
    table, in the same run. Target: upsert >= 30 % of COPY's records/s. Also reported: a
    second pass where nothing changed (hash skip) and one where everything changed. Unlike
    COPY's target, ``records`` has a primary key, an (org, model, updated_at) index and a
    (connection, org) foreign key to maintain, row by row. So the run also measures the
    ceiling any write into ``records`` can reach: a blind ``COPY`` of the same new rows, page
    by page, into tables shaped like ``records`` (its keys and index, with and without the
    foreign key) — no conflict handling, no hash skip, nothing a sync needs on top.
(b) a full sync of ``BENCH_SYNC_ROWS`` HubSpot contacts (100k) from the sandbox served over
    loopback HTTP, run by a separate process: records/s and that process's peak RSS, next
    to the same for a tenth of the records (flat memory: the two peaks are close).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import uvicorn
from psycopg import sql
from sqlalchemy.engine import make_url

from providers.sandbox import Sandbox
from providers.sandbox.asgi import create_app
from storage.crypto import generate_key_item
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.records import RecordRepository, RecordRow, flush_commit_lazily
from switchyard.cli.sandbox import env_lines
from workers.sync.records import content_hash

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEY = generate_key_item("bench")
COLUMNS = ("connection_id", "model", "external_id", "org_id", "data", "content_hash")


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"switchyard_bench_{uuid.uuid4().hex[:10]}"
    admin = _libpq_url(POSTGRES_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _record(n: int, version: int) -> dict[str, Any]:
    props = {"email": f"user{n}@example.com", "firstname": "Ada", "lastname": str(n)}
    stamp = f"2026-01-0{version}T00:00:00Z"
    return {"id": str(n), "properties": props, "archived": False, "updatedAt": stamp}


def _rows(count: int, version: int) -> list[RecordRow]:
    rows = []
    for n in range(1, count + 1):
        data = _record(n, version)
        rows.append(RecordRow(str(n), data, content_hash(data), data["updatedAt"]))
    return rows


def _org_and_connection(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        org = OrganizationRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}").id
        conn = ConnectionRepository(session, org).create("hubspot").id
    engine.dispose()
    return org, conn


def _upsert_pass(url: str, org: str, conn: str, rows: list[RecordRow], page: int) -> float:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    for start in range(0, len(rows), page):
        with sessions.begin() as session:
            flush_commit_lazily(session)  # as the sync engine commits its pages
            RecordRepository(session, org).upsert_page(
                conn,
                "contacts",
                rows[start : start + page],
                run_id=uuid.uuid4().hex,
                now=datetime.now(UTC),
                touch_unchanged=True,
            )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _copy(url: str, org: str, conn: str, rows: list[RecordRow]) -> float:
    with psycopg.connect(_libpq_url(url)) as db:
        db.execute(
            "CREATE TABLE copy_target (connection_id varchar(32), model varchar(64),"
            " external_id varchar(255), org_id varchar(32), data json, content_hash varchar(32))"
        )
        db.commit()
        started = time.perf_counter()
        with (
            db.cursor() as cur,
            cur.copy(f"COPY copy_target ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    (conn, "contacts", row.external_id, org, json.dumps(row.data), row.content_hash)
                )
        db.commit()
        return time.perf_counter() - started


_SHAPED = {
    "copy_shaped": "CREATE TABLE copy_shaped (LIKE records INCLUDING ALL)",
    "copy_shaped_fk": (
        "CREATE TABLE copy_shaped_fk (LIKE records INCLUDING ALL);"
        " ALTER TABLE copy_shaped_fk ADD FOREIGN KEY (connection_id, org_id)"
        " REFERENCES connections (id, org_id) ON DELETE CASCADE"
    ),
}
_RECORD_COLUMNS = (
    "connection_id, model, external_id, org_id, data, content_hash, provider_updated_at,"
    " seen_run_id, first_seen_at, last_seen_at, updated_at, deleted_at"
)


def _copy_pages(
    url: str, table: str, org: str, conn: str, rows: list[RecordRow], page: int
) -> float:
    """COPY new rows into a table shaped like ``records``, one transaction per page."""
    with psycopg.connect(_libpq_url(url)) as db:
        db.execute(_SHAPED[table])
        db.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), page):
            db.execute("SET LOCAL synchronous_commit = off")  # as a sync page commits
            run, now = uuid.uuid4().hex, datetime.now(UTC)
            with (
                db.cursor() as cur,
                cur.copy(f"COPY {table} ({_RECORD_COLUMNS}) FROM STDIN") as copy,
            ):
                for row in rows[start : start + page]:
                    data = json.dumps(row.data)
                    copy.write_row(
                        (
                            conn,
                            "contacts",
                            row.external_id,
                            org,
                            data,
                            row.content_hash,
                            row.provider_updated_at,
                            run,
                            now,
                            now,
                            now,
                            None,
                        )
                    )
            db.commit()
        return time.perf_counter() - started


def upsert_vs_copy(count: int, pages: list[int]) -> None:
    print(f"\n== (a) upsert vs COPY, {count:,} records (one transaction per page)")
    fresh, changed = _rows(count, 1), _rows(count, 2)
    for page in pages:
        with scratch_database() as url:
            org, conn = _org_and_connection(url)
            copy_s = _copy(url, org, conn, fresh)
            shaped_s = _copy_pages(url, "copy_shaped", org, conn, fresh, page)
            shaped_fk_s = _copy_pages(url, "copy_shaped_fk", org, conn, fresh, page)
            insert_s = _upsert_pass(url, org, conn, fresh, page)
            same_s = _upsert_pass(url, org, conn, fresh, page)
            change_s = _upsert_pass(url, org, conn, changed, page)
        copy_rate = count / copy_s
        print(f"  pages of {page}: COPY into an unindexed table {copy_rate:,.0f} records/s")
        for label, seconds in (
            ("ceiling: COPY into records' shape", shaped_s),
            ("  same, with records' foreign key", shaped_fk_s),
            ("upsert, all new", insert_s),
            ("upsert, all unchanged (hash skip)", same_s),
            ("upsert, all changed", change_s),
        ):
            rate = count / seconds
            print(f"    {label:<34} {rate:>9,.0f} records/s  {rate / copy_rate:6.1%} of COPY")
    print("  target: upsert >= 30 % of COPY")


@contextmanager
def served(sandbox: Sandbox) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(sandbox), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def full_sync(count: int) -> dict[str, Any]:
    """Sync ``count`` contacts in a child process; its records/s and peak RSS."""
    sandbox = Sandbox(seed=0)
    sandbox.set_rate_limit("hubspot", 1_000_000, 1.0)  # measure the sync, not HubSpot's quota
    sandbox.datasets.dataset("hubspot", "contacts", seed=count)
    token = sandbox.issue_token("hubspot")
    with scratch_database() as url, served(sandbox) as root, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            org = OrganizationRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}").id
            conn = ConnectionRepository(session, org).create(
                "hubspot", account_identifier={"portal_id": "62515"}
            )
            keyring_env = KEY
            from storage.crypto import KeyRing

            CredentialRepository(session, org, KeyRing([keyring_env])).store(
                conn.id, auth_mode="oauth2_code", access_token=token.access_token
            )
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env.update(
            {
                "SWITCHYARD_REDIS_URL": REDIS_URL,
                "SWITCHYARD_DATABASE_URL": url,
                "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": KEY,
                "SWITCHYARD_WORKERS__NAMESPACE": "bs" + uuid.uuid4().hex[:6],
                "SWITCHYARD_DATA_DIR": tmp,
                "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__LIMIT": "1000000",
                "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__PERIOD_SECONDS": "1",
                "SWITCHYARD_PROVIDERS__HUBSPOT__RATE_LIMIT__BURST": "1000000",
                "BENCH_ORG": org,
            }
        )
        for line in env_lines(sandbox, root):
            name, _, value = line.partition("=")
            env[name] = value
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.sync_child"],
            env=env,
            stdout=subprocess.PIPE,
        )
        out, _ = child.communicate()
        result: dict[str, Any] = json.loads(out)
        return result


def sync_benchmark(count: int) -> None:
    print("\n== (b) full sync of HubSpot contacts from the sandbox over loopback HTTP")
    for n in (count // 10, count):
        r = full_sync(n)
        print(
            f"  {n:>8,} records: {r['records'] / r['seconds']:>8,.0f} records/s "
            f"({r['pages']} pages in {r['seconds']:.1f} s), sync process peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, status {r['status']}"
        )


def main() -> None:
    upsert_vs_copy(
        int(os.environ.get("BENCH_UPSERT_ROWS", "100000")),
        [int(p) for p in os.environ.get("BENCH_UPSERT_PAGES", "100,500,1000").split(",")],
    )
    sync_benchmark(int(os.environ.get("BENCH_SYNC_ROWS", "100000")))


if __name__ == "__main__":
    main()
