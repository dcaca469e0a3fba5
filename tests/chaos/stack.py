"""The system under test, as an operator runs it: `switchyard worker|api|scheduler` processes
(the venv's entry point) on a private Redis and PostgreSQL, calling the stand-in provider.

A :class:`Ledger` keeps every job the test got accepted, by a marker of its own; the
stand-in counts what reached the "provider" and the ``dead_jobs`` table says what was
parked, so what ran, what was dead-lettered, what was lost and what ran twice are counted
outside Switchyard.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from storage.crypto import generate_key_item
from storage.models import DeadJob
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from tests.chaos.servers import StandIn, wait_until
from tests.integration.private_servers import PrivatePostgres, PrivateRedis, free_port

SWITCHYARD = str(Path(sys.executable).parent / "switchyard")
PROVIDER = "custom_webhook"
REPORT = Path(os.environ.get("CHAOS_REPORT", "/tmp/switchyard-chaos.jsonl"))


def full_size() -> bool:
    """``make chaos`` runs the full sizes; ``make test`` (CI) the small ones."""
    return os.environ.get("CHAOS_FULL") == "1"


@dataclass
class Report:
    """One case's counts: every accepted job either ran or has a dead_jobs row, or is lost."""

    case: str
    accepted: int
    ran: int
    dead_lettered: int
    lost: list[str]
    duplicated: int
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return json.dumps(
            {
                "case": self.case,
                "accepted": self.accepted,
                "ran": self.ran,
                "dead_lettered": self.dead_lettered,
                "lost": len(self.lost),
                "duplicated": self.duplicated,
                **self.extra,
            }
        )

    def save(self) -> None:
        with REPORT.open("a") as out:
            out.write(self.line() + "\n")
        print(self.line())


class Ledger:
    """Markers of accepted jobs, and whether each must run or must be dead-lettered."""

    def __init__(self) -> None:
        self.must_run: set[str] = set()
        self.must_die: set[str] = set()

    @staticmethod
    def job(
        org_id: str,
        marker: str,
        *,
        path: str = "/hit",
        delay_ms: int = 0,
        provider: str = PROVIDER,
    ) -> dict[str, Any]:
        query = {"m": marker, **({"ms": str(delay_ms)} if delay_ms else {})}
        return {
            "kind": "action",
            "org_id": org_id,
            "provider": provider,
            "payload": {
                "action": "proxy",
                "input": {"method": "POST", "path": path, "query": query},
            },
        }

    def accept(self, marker: str, *, dies: bool = False) -> None:
        (self.must_die if dies else self.must_run).add(marker)

    def accounted(self, hits: dict[str, int], dead: set[str]) -> tuple[list[str], int]:
        """Markers not accounted for (lost so far), and duplicate runs."""
        lost = [m for m in self.must_run if not hits.get(m) and m not in dead]
        lost += [m for m in self.must_die if m not in dead]
        duplicated = sum(n - 1 for m, n in hits.items() if n > 1 and m in self.all)
        return lost, duplicated

    @property
    def all(self) -> set[str]:
        return self.must_run | self.must_die


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


class Stack:
    """Processes and servers of one chaos case."""

    def __init__(
        self, directory: Path, redis: PrivateRedis, pg: PrivatePostgres, stand_in: StandIn
    ) -> None:
        self.directory = directory
        self.redis = redis
        self.pg = pg
        self.stand_in = stand_in
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ledger = Ledger()
        self.env = self._env()
        self.runtime: Runtime | None = None

    def _env(self) -> dict[str, str]:
        provider = f"SWITCHYARD_PROVIDERS__{PROVIDER.upper()}__"
        keep = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        return {
            **keep,
            "SWITCHYARD_REDIS_URL": self.redis.url,
            "SWITCHYARD_DATABASE_URL": self.pg.url,
            "SWITCHYARD_DATA_DIR": str(self.directory / "data"),
            "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": generate_key_item("chaos1"),
            # The stand-in is on loopback, which production refuses: allowed as an operator would.
            "SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS": "127.0.0.1/32",
            provider + "BASE_URL": f"http://{self.stand_in.host}",
            provider + "RATE_LIMIT__LIMIT": "100000",
            provider + "RATE_LIMIT__PERIOD_SECONDS": "1",
            provider + "RATE_LIMIT__BURST": "100000",
        }

    def boot(self) -> Runtime:
        """The schema, and an in-test runtime for setup, enqueueing and counting."""
        self.run_cli("db", "upgrade")
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.env)
            self.runtime = build_runtime(load_settings(_env_file=None))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return self.runtime

    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None, "boot() first"
        return self.runtime

    def orgs(self, count: int) -> list[str]:
        """``count`` organizations, each connected to the stand-in."""
        made = []
        with self.rt.sessions.begin() as session:
            for _ in range(count):
                org = OrganizationRepository(session).create("chaos-" + uuid.uuid4().hex[:8]).id
                ConnectionRepository(session, org).create(
                    PROVIDER, account_identifier={"host": self.stand_in.host}
                )
                made.append(org)
        return made

    def api_key(self, org_id: str) -> str:
        """A new API key of ``org_id`` (plaintext)."""
        with self.rt.sessions.begin() as session:
            return ApiKeyRepository(session).create(org_id, "chaos").key.reveal()

    def api(
        self, name: str = "api", port: int | None = None
    ) -> tuple[subprocess.Popen[bytes], str]:
        """``switchyard api`` on ``port`` (default a free one), once it answers; (process,
        base URL)."""
        port = port or free_port()
        process = self.start(name, "api", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base + "/healthz"), 60, "switchyard api up")
        return process, base

    def enqueue_marker(self) -> str:
        """A marker for a job the test submits itself (over HTTP): counted once accepted."""
        marker = uuid.uuid4().hex
        self.ledger.accept(marker)
        return marker

    def enqueue(
        self, org_id: str, *, dies: bool = False, delay_ms: int = 0, provider: str = PROVIDER
    ) -> str:
        marker = uuid.uuid4().hex
        path = "/dead" if dies else "/hit"
        job = Ledger.job(org_id, marker, path=path, delay_ms=delay_ms, provider=provider)
        self.rt.enqueuer.enqueue(job)
        self.ledger.accept(marker, dies=dies)
        return marker

    # --- processes ---------------------------------------------------------------------------
    def run_cli(self, *args: str) -> str:
        done = subprocess.run(
            [SWITCHYARD, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"switchyard {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    def start(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [SWITCHYARD, *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a kill reaches the forked children
        )
        self.processes.append(process)
        return process

    def worker(
        self, name: str, *, processes: int = 1, threads: int = 8, json_logs: bool = False
    ) -> subprocess.Popen[bytes]:
        """A worker group on the action queue; ``json_logs``: records as JSON, one a line
        (read with :func:`tests.log_records.json_records`)."""
        env = {"SWITCHYARD_LOG_FORMAT": "json"} if json_logs else None
        args = ("worker", "-p", str(processes), "-t", str(threads), "-Q", "action")
        return self.start(name, *args, env=env)

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole group: the parent and every worker process it forked."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    @staticmethod
    def terminate(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
        """SIGTERM to the parent only (Dramatiq forwards it to its children)."""
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        return process.wait(timeout=timeout)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        if self.runtime is not None:
            self.runtime.close()

    def log_path(self, name: str) -> Path:
        """Where the output of the processes started as ``name`` goes (appended)."""
        return self.directory / f"{name}.log"

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    # --- counting ----------------------------------------------------------------------------
    def dead_markers(self) -> dict[str, tuple[str, int]]:
        """Markers of jobs in ``dead_jobs``, with their error class and attempts."""
        with self.rt.sessions() as session:
            rows = session.execute(
                select(DeadJob.envelope, DeadJob.error_class, DeadJob.attempts)
            ).all()
        found = {}
        for envelope, error_class, attempts in rows:
            payload = envelope.get("payload") if isinstance(envelope, dict) else None
            query = (payload or {}).get("input", {}).get("query", {})
            if isinstance(query, dict) and query.get("m"):
                found[str(query["m"])] = (str(error_class), int(attempts))
        return found

    def settle(self, case: str, timeout: float, **extra: Any) -> Report:
        """Wait until every accepted job is accounted for (or ``timeout``); the report (the
        caller adds its figures and saves it)."""
        started = time.monotonic()

        def accounted() -> bool:
            lost, _ = self.ledger.accounted(self.stand_in.counts(), set(self.dead_markers()))
            return not lost

        with contextlib.suppress(AssertionError):  # the report says what is missing
            wait_until(accounted, timeout, f"{case}: every job ran or was dead-lettered", 0.5)
        hits, dead = self.stand_in.counts(), self.dead_markers()
        lost, duplicated = self.ledger.accounted(hits, set(dead))
        report = Report(
            case=case,
            accepted=len(self.ledger.all),
            ran=sum(1 for m in self.ledger.all if hits.get(m)),
            dead_lettered=sum(1 for m in self.ledger.all if m in dead),
            lost=lost,
            duplicated=duplicated,
            extra={"settle_s": round(time.monotonic() - started, 1), **extra},
        )
        return report
